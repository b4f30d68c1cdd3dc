/**
 * The watcher: one inotify watch per folder (Node's fs.watch, not recursive), every event under
 * the data directory a hint to the scanner, which decides from the disk what changed. Temp files
 * are ignored; symlinks are not followed. It never reads a folder because of an event: a folder
 * is watched when the scanner meets it (its walk tells each folder before reading it), so a file
 * made in a new folder is either in that walk or sends an event. A periodic stat-only rescan is
 * the safety net for anything the events miss (inotify overflow, the watch limit reached).
 */
import { watch, type FSWatcher } from 'node:fs'
import { readdir } from 'node:fs/promises'
import path from 'node:path'
import { TEMP_PREFIX } from '../../protocol/index.js'
import { isFsCode } from '../storage/fs-errors.js'
import type { Scanner } from './scanner.js'
import { directoryExists } from './tree-walk.js'

/** Names hinted while paused, kept to be hinted on resume; past this, the whole tree instead. */
const MAX_HELD = 100_000

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
  readonly ready: Promise<void>
  readonly #o: WatcherOptions
  readonly #rescan: NodeJS.Timeout
  /** Watched folders by name ('' = the root). */
  readonly #watches = new Map<string, FSWatcher>()
  #paused = 0
  /** Hints that came while paused; `undefined` once too many came (the whole tree then). */
  #held: Set<string> | undefined = new Set()
  #closed = false
  #limitTold = false

  constructor(o: WatcherOptions) {
    this.#o = o
    this.ready = this.#watchTree()
    this.#rescan = setInterval(() => o.scanner.hint(''), o.rescanIntervalMs)
    this.#rescan.unref()
  }

  /** Folders watched now (for tests and status). */
  get watched(): number {
    return this.#watches.size
  }

  /**
   * The scanner found `name` to be a folder (`present`), about to read it, or found something
   * else there (a file, nothing). A new folder is watched before it is read; a folder that went
   * is no longer watched, nor anything under it (a folder moved out of the tree still reports).
   */
  folder(name: string, present: boolean): void {
    if (this.#closed) return
    if (present) {
      if (!this.#watches.has(name)) this.#watch(name)
      return
    }
    if (!this.#watches.has(name)) return
    const under = `${name}/`
    for (const [folder, watcher] of this.#watches)
      if (folder === name || folder.startsWith(under)) {
        watcher.close()
        this.#watches.delete(folder)
      }
  }

  /**
   * Hold back hints while this server writes many files itself (BulkMode): each applied file's
   * event would have the scanner look at a name the applier is writing. On resume each name
   * hinted meanwhile is hinted once; nothing another program did meanwhile is lost.
   */
  pause(): void {
    this.#paused++
  }

  resume(): void {
    if (this.#paused === 0 || --this.#paused > 0) return
    const held = this.#held
    this.#held = new Set()
    if (!held) return this.#o.scanner.hint('')
    for (const name of held) this.#o.scanner.hint(name)
  }

  async close(): Promise<void> {
    this.#closed = true
    clearInterval(this.#rescan)
    for (const watcher of this.#watches.values()) watcher.close()
    this.#watches.clear()
    await Promise.resolve()
  }

  #hint(name: string): void {
    if (this.#paused === 0) return this.#o.scanner.hint(name)
    if (!this.#held) return
    this.#held.add(name)
    if (this.#held.size > MAX_HELD) this.#held = undefined
  }

  /** Watch every folder under the root, the root first (symlinks not followed). */
  async #watchTree(): Promise<void> {
    const visit = async (name: string): Promise<void> => {
      if (this.#closed || !this.#watch(name)) return
      let entries
      try {
        entries = await readdir(this.#full(name), { withFileTypes: true })
      } catch {
        return // gone meanwhile, or unreadable: its parent's events and the rescan cover it
      }
      for (const entry of entries)
        if (entry.isDirectory() && !entry.name.startsWith(TEMP_PREFIX))
          await visit(name === '' ? entry.name : `${name}/${entry.name}`)
    }
    await visit('')
  }

  /** Watch one folder; false when it cannot be (gone, unreadable, the watch limit reached). */
  #watch(name: string): boolean {
    if (this.#watches.has(name)) return true
    let watcher: FSWatcher
    try {
      watcher = watch(this.#full(name), { persistent: false }, (event, file) =>
        this.#event(name, event, file),
      )
    } catch (err) {
      this.#cannotWatch(name, err)
      return false
    }
    watcher.on('error', (err: unknown) => {
      // The folder's watch broke (it went, mostly): forget it; the scanner meets it again if it
      // is still there.
      if (this.#watches.get(name) === watcher) this.#watches.delete(name)
      watcher.close()
      if (!this.#closed && !isFsCode(err, 'ENOENT')) this.#o.warn(`watcher: ${String(err)}`)
      if (name === '') void this.#checkRoot()
      this.#hint(name)
    })
    this.#watches.set(name, watcher)
    return true
  }

  #event(folder: string, event: string, file: string | Buffer | null): void {
    if (this.#closed) return
    if (file === null) return this.#hint(folder)
    const base = file.toString()
    if (base.startsWith(TEMP_PREFIX)) return
    // The root's own watch names the root itself when the root is removed or renamed.
    if (folder === '' && event === 'rename' && base === path.basename(this.#o.root))
      void this.#checkRoot()
    this.#hint(folder === '' ? base : `${folder}/${base}`)
  }

  async #checkRoot(): Promise<void> {
    if (!(await directoryExists(this.#o.root)) && !this.#closed) this.#o.onRootLost()
  }

  #cannotWatch(name: string, err: unknown): void {
    if (isFsCode(err, 'ENOENT') || isFsCode(err, 'ENOTDIR')) return // gone meanwhile
    if (isFsCode(err, 'ENOSPC') || isFsCode(err, 'EMFILE')) {
      if (this.#limitTold) return
      this.#limitTold = true
      this.#o.warn(
        `watcher: cannot watch more folders (${(err as { code?: string }).code}: the inotify watch limit, ` +
          `fs.inotify.max_user_watches); changes in the folders not watched are found by the rescan ` +
          `every ${Math.round(this.#o.rescanIntervalMs / 1000)} s`,
      )
      return
    }
    this.#o.warn(`watcher: cannot watch '${name}': ${String(err)}`)
  }

  #full(name: string): string {
    return name === '' ? this.#o.root : path.join(this.#o.root, ...name.split('/'))
  }
}
