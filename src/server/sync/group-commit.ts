/**
 * Group commit of the applier's sealed temp files: the takes whose content is ready together are
 * published together. Each asks the main thread for its own name's write lock (the requests of
 * one turn leave as one message, and their grants come back together); the ones granted by the
 * time the group is formed go in it: under their locks each one's own checks and its rename; then
 * one directory fsync per folder; then, the locks let go, one index transaction for all of them.
 * So a burst of small files costs a directory fsync and a commit per group, not per file, and no
 * file is indexed as held here before its rename is durable (temp file fsynced and checked before
 * it is handed over here).
 *
 * A name whose lock is held a while (a client's long append) waits alone: its request holds no
 * other name, and its grant, when it comes, joins a later group. (One request for the group's
 * names would hold every name sorted before it while waiting, from clients and from the disk.)
 *
 * A group is what has been granted when the previous one ends (or, when idle, what is granted in
 * one turn of the event loop): a lone file waits no longer than its lock and a setImmediate. One
 * file's failure (its lock, its checks, its rename, its folder's fsync) is its own: the others of
 * the group go on.
 */
import path from 'node:path'
import type { FileEntry } from '../index/entry.js'
import type { FileIndex } from '../index/file-index.js'
import { fsyncDir } from '../storage/dir-sync.js'
import type { SealedTemp } from './content-source.js'
import { fingerprintOf } from '../watch/disk-probe.js'

/** Names per group: bounds the work done under its locks and one index transaction. */
const MAX_GROUP = 256

export interface Publication {
  name: string
  /** The absolute path the temp file is renamed to. */
  target: string
  /** Sealed: fsynced, its SHA-256 and size checked. */
  temp: SealedTemp
  /** Stored once the rename is durable, with the published file's fingerprint. */
  entry: Omit<FileEntry, 'seq'>
  /** Under the name's write lock, before the rename: throws to leave this one out. */
  check(): Promise<void>
}

interface Waiting {
  p: Publication
  resolve(stored: FileEntry): void
  reject(err: unknown): void
  /** Its write lock, once granted. */
  release?: () => void
  failed?: { err: unknown }
}

export class GroupCommit {
  readonly #lock: (names: readonly string[]) => Promise<() => void>
  readonly #index: FileIndex
  /** Not asked for yet (a second of one name waits for the first to be done). */
  #waiting: Waiting[] = []
  /** Granted, waiting for a group. */
  #ready: Waiting[] = []
  /** Names asked for and not done yet: one publication of a name at a time. */
  readonly #asked = new Set<string>()
  #running = false
  #scheduled = false

  constructor(options: { lock(names: readonly string[]): Promise<() => void>; index: FileIndex }) {
    this.#lock = options.lock
    this.#index = options.index
  }

  /** Resolves with the stored entry once renamed, its folder fsynced and the index updated. */
  publish(p: Publication): Promise<FileEntry> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ p, resolve, reject })
      this.#schedule()
    })
  }

  #schedule(): void {
    if (this.#running || this.#scheduled) return
    this.#scheduled = true
    setImmediate(() => {
      this.#scheduled = false
      void this.#pump()
    })
  }

  async #pump(): Promise<void> {
    if (this.#running) return
    this.#running = true
    try {
      for (;;) {
        this.#ask()
        if (this.#ready.length === 0) break // the grants to come start the next group
        await this.#flush(this.#ready.splice(0, MAX_GROUP))
      }
    } finally {
      this.#running = false
    }
  }

  /** Ask for the lock of each waiting publication whose name is not asked for already. */
  #ask(): void {
    const rest: Waiting[] = []
    for (const w of this.#waiting) {
      const name = w.p.name
      if (this.#asked.has(name)) {
        rest.push(w)
        continue
      }
      this.#asked.add(name)
      this.#lock([name]).then(
        (release) => {
          w.release = release
          this.#ready.push(w)
          this.#schedule()
        },
        (err: unknown) => {
          this.#done(name)
          w.reject(err)
        },
      )
    }
    this.#waiting = rest
  }

  /** `name`'s publication is over: the next one of that name may ask for its lock. */
  #done(name: string): void {
    this.#asked.delete(name)
    if (this.#waiting.some((w) => w.p.name === name)) this.#schedule()
  }

  async #flush(group: Waiting[]): Promise<void> {
    try {
      await Promise.all(
        group.map(async (w) => {
          try {
            await w.p.check()
            await w.p.temp.rename(w.p.target)
          } catch (err) {
            w.failed = { err }
          }
        }),
      )
      const folders = new Map<string, Waiting[]>()
      for (const w of group) {
        if (w.failed) continue
        const dir = path.dirname(w.p.target)
        const list = folders.get(dir)
        if (list) list.push(w)
        else folders.set(dir, [w])
      }
      await Promise.all(
        [...folders].map(async ([dir, list]) => {
          try {
            await fsyncDir(dir)
          } catch (err) {
            for (const w of list) w.failed = { err }
          }
        }),
      )
    } finally {
      for (const w of group) w.release?.()
    }
    const done = group.filter((w) => !w.failed)
    try {
      // The renamed temp file is the file now: its identity is the fingerprint (no stat needed).
      const items = await Promise.all(
        done.map(async (w) => ({
          entry: w.p.entry,
          fingerprint: w.p.temp.identity ?? (await fingerprintOf(w.p.target)),
        })),
      )
      const stored = this.#index.put(items)
      done.forEach((w, i) => w.resolve(stored[i]!))
    } catch (err) {
      for (const w of done) w.reject(err)
    }
    for (const w of group) if (w.failed) w.reject(w.failed.err)
    for (const w of group) this.#done(w.p.name)
  }
}
