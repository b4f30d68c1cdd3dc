/**
 * The watcher (chokidar 5): every event under the data directory becomes a hint to the scanner,
 * which decides from the disk what changed. Temp files are ignored; symlinks are not followed.
 * A periodic stat-only rescan is the safety net for anything the events miss (inotify overflow,
 * changes made while a folder was being set up).
 */
import type { Stats } from 'node:fs'
import path from 'node:path'
import { watch, type FSWatcher } from 'chokidar'
import { TEMP_PREFIX } from '../../protocol/index.js'
import type { Scanner } from './scanner.js'

const RESUME_RESCAN_MS = 500
const NEW_FOLDER_LOOKS_MS = [250, 2_000]

export interface WatcherOptions {
  root: string
  /** Told of every name that may have changed ('' for the whole tree). */
  scanner: Pick<Scanner, 'hint'>
  rescanIntervalMs: number
  /** The data directory itself was removed or became unreadable. */
  onRootLost(): void
  warn(message: string): void
}

export class Watcher {
  readonly #watcher: FSWatcher
  readonly #rescan: NodeJS.Timeout
  readonly ready: Promise<void>
  readonly #root: string
  readonly #scanner: Pick<Scanner, 'hint'>
  #paused = 0
  #pausedDirs: string[] = []

  constructor(o: WatcherOptions) {
    this.#root = o.root
    this.#scanner = o.scanner
    const nameOf = (full: string): string => path.relative(o.root, full).split(path.sep).join('/')
    this.#watcher = watch(o.root, {
      ignoreInitial: true,
      followSymlinks: false,
      // Report unlinks at once; the scanner's look at the disk handles editors' save-by-rename.
      atomic: false,
      // Folders only: a watcher per file (chokidar's way of reporting 'change') cost ~7 KiB each,
      // 69 MiB for 10,000 files. The folders' own watches report every change to the files in
      // them, by name (the 'raw' events below), which is all the scanner needs.
      ignored: (p: string, stats?: Stats) =>
        path.basename(p).startsWith(TEMP_PREFIX) || (stats?.isFile() ?? false),
    })
    const hint = (full: string): void => {
      const name = nameOf(full)
      if (name === '' || name.startsWith('..')) return
      o.scanner.hint(name)
    }
    this.#watcher.on('raw', (_event, file: string | null, details: unknown) => {
      const dir = (details as { watchedPath?: string } | undefined)?.watchedPath
      if (!file || !dir || file.startsWith(TEMP_PREFIX)) return
      hint(path.join(dir, file))
    })
    this.#watcher.on('add', hint).on('change', hint).on('unlink', hint)
    this.#watcher.on('addDir', (full: string) => {
      hint(full)
      // chokidar reports a new folder, reads it, and only then watches it: files made in between
      // send no event. Looking at the folder again once its watch is surely set up finds them.
      for (const delay of NEW_FOLDER_LOOKS_MS) setTimeout(() => hint(full), delay).unref()
    })
    this.#watcher.on('unlinkDir', (full: string) => {
      if (path.resolve(full) === path.resolve(o.root)) o.onRootLost()
      else hint(full)
    })
    this.#watcher.on('error', (err: unknown) => o.warn(`watcher: ${String(err)}`))
    this.ready = new Promise((resolve) => this.#watcher.once('ready', () => resolve()))
    this.#rescan = setInterval(() => o.scanner.hint(''), o.rescanIntervalMs)
    this.#rescan.unref()
  }

  /**
   * Stop watching while this server writes many files itself. chokidar re-reads a directory
   * (an lstat per entry) after each change in it, back to back while changes keep coming: a bulk
   * mirror of 1,000 files into one folder cost seconds of CPU. Paused, the writes cost nothing to
   * watch; on resume a rescan finds whatever another program changed meanwhile.
   */
  pause(): void {
    if (this.#paused++ > 0) return
    // Every folder, not just the root: unwatching the root leaves its sub-folders watched.
    const root = this.#root
    this.#pausedDirs = Object.keys(this.#watcher.getWatched()).filter(
      (dir) => dir === root || dir.startsWith(root + path.sep),
    )
    this.#watcher.unwatch(this.#pausedDirs)
  }

  resume(): void {
    if (--this.#paused > 0) return
    this.#watcher.add([this.#root, ...this.#pausedDirs])
    this.#pausedDirs = []
    this.#scanner.hint('')
    // chokidar sets its watches up again in the background: look once more when it has.
    setTimeout(() => this.#scanner.hint(''), RESUME_RESCAN_MS).unref()
  }

  async close(): Promise<void> {
    clearInterval(this.#rescan)
    await this.#watcher.close()
  }
}
