/**
 * The watcher (chokidar 5): every event under the data directory becomes a hint to the scanner,
 * which decides from the disk what changed. Temp files are ignored; symlinks are not followed.
 * A periodic stat-only rescan is the safety net for anything the events miss (inotify overflow,
 * changes made while a folder was being set up).
 */
import path from 'node:path'
import { watch, type FSWatcher } from 'chokidar'
import { TEMP_PREFIX } from '../../protocol/index.js'
import type { Scanner } from './scanner.js'

export interface WatcherOptions {
  root: string
  scanner: Scanner
  rescanIntervalMs: number
  /** The data directory itself was removed or became unreadable. */
  onRootLost(): void
  warn(message: string): void
}

export class Watcher {
  readonly #watcher: FSWatcher
  readonly #rescan: NodeJS.Timeout
  readonly ready: Promise<void>

  constructor(o: WatcherOptions) {
    const nameOf = (full: string): string => path.relative(o.root, full).split(path.sep).join('/')
    this.#watcher = watch(o.root, {
      ignoreInitial: true,
      followSymlinks: false,
      // Report unlinks at once; the scanner's look at the disk handles editors' save-by-rename.
      atomic: false,
      ignored: (p: string) => path.basename(p).startsWith(TEMP_PREFIX),
    })
    const hint = (full: string): void => {
      const name = nameOf(full)
      if (name === '' || name.startsWith('..')) return
      o.scanner.hint(name)
    }
    this.#watcher.on('add', hint).on('change', hint).on('unlink', hint).on('addDir', hint)
    this.#watcher.on('unlinkDir', (full: string) => {
      if (path.resolve(full) === path.resolve(o.root)) o.onRootLost()
      else hint(full)
    })
    this.#watcher.on('error', (err: unknown) => o.warn(`watcher: ${String(err)}`))
    this.ready = new Promise((resolve) => this.#watcher.once('ready', () => resolve()))
    this.#rescan = setInterval(() => o.scanner.hint(''), o.rescanIntervalMs)
    this.#rescan.unref()
  }

  async close(): Promise<void> {
    clearInterval(this.#rescan)
    await this.#watcher.close()
  }
}
