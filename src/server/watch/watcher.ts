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
import { TEMP_PREFIX } from '../../protocol/names.js'
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
  /**
   * Hints that came while paused, with when their last event came (performance.now());
   * `undefined` once too many came (the whole tree then).
   */
  #held: Map<string, number> | undefined = new Map()
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
   * hinted meanwhile is hinted once, unless the scanner looked at it after its last event;
   * nothing another program did meanwhile is lost.
   */
  pause(): void {
    this.#paused++
  }

  resume(): void {
    if (this.#paused === 0 || --this.#paused > 0) return
    const held = this.#held
    this.#held = new Map()
    if (!held) return this.#o.scanner.hint('')
    // A name the scanner looked at after its last event (the applier hints what it wrote once
    // done) needs no other look: the scanner drops those.
    for (const [name, at] of held) this.#o.scanner.hint(name, at)
  }

  /**
   * Something may have changed at `name` that no event will tell (the applier let go of a name the
   * scanner passed over while it was busy): hinted now, or held with the events while paused.
   */
  notice(name: string): void {
    if (!this.#closed) this.#hint(name)
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
    this.#held.delete(name) // re-inserted: the map's order stays that of the last events
    this.#held.set(name, performance.now())
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
        this.#event(name, event, file, watcher),
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

  #event(folder: string, event: string, file: string | Buffer | null, watcher: FSWatcher): void {
    if (this.#closed) return
    if (file === null) return this.#hint(folder)
    const base = file.toString()
    if (base.startsWith(TEMP_PREFIX)) return
    // A folder's own watch names the folder itself when the folder is removed or renamed.
    if (event === 'rename' && base === path.basename(this.#full(folder))) {
      if (folder === '') void this.#checkRoot()
      else this.#selfEvent(folder, watcher)
    }
    this.#hint(folder === '' ? base : `${folder}/${base}`)
  }

  /**
   * The watched folder itself may have gone (removed, or renamed away: its watch follows it), and
   * a folder made again at its name is another one, with a watch of its own to be (the same inode
   * number comes back often, so the disk cannot tell). The watch and those under it are let go and
   * the scanner looks at the name again: it watches a folder there, and reads it after. Should the
   * event have been a file of the folder's own name in it, that costs one more walk of the folder.
   */
  #selfEvent(name: string, watcher: FSWatcher): void {
    if (this.#watches.get(name) !== watcher) return
    this.folder(name, false)
    this.#hint(name)
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
