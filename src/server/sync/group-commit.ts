/**
 * Group commit of the applier's sealed temp files: the takes whose content is ready together are
 * published together. One write-lock request to the main thread for all their names; under it
 * each one's own checks and its rename; then one directory fsync per folder; then, the locks let
 * go, one index transaction for all of them. So a burst of small files costs a lock round trip, a
 * directory fsync and a commit per group, not per file, and no file is indexed as held here
 * before its rename is durable (temp file fsynced and checked before it is handed over here).
 *
 * A group is what is waiting when the previous one ends (or, when idle, what arrives in one turn
 * of the event loop): a lone file waits no longer than a setImmediate. One file's failure (its
 * checks, its rename, its folder's fsync) is its own: the others of the group go on.
 */
import path from 'node:path'
import type { FileEntry } from '../index/entry.js'
import type { FileIndex } from '../index/file-index.js'
import { fsyncDir } from '../storage/dir-sync.js'
import type { TempFile } from '../storage/temp-file.js'
import { fingerprintOf } from '../watch/disk-probe.js'

/** Names per lock request: bounds one request's wait and the work done under it. */
const MAX_GROUP = 256

export interface Publication {
  name: string
  /** The absolute path the temp file is renamed to. */
  target: string
  /** Sealed: fsynced, its SHA-256 and size checked. */
  temp: TempFile
  /** Stored once the rename is durable, with the published file's fingerprint. */
  entry: Omit<FileEntry, 'seq'>
  /** Under the name's write lock, before the rename: throws to leave this one out. */
  check(): Promise<void>
}

interface Waiting {
  p: Publication
  resolve(stored: FileEntry): void
  reject(err: unknown): void
  failed?: { err: unknown }
}

export class GroupCommit {
  readonly #lock: (names: readonly string[]) => Promise<() => void>
  readonly #index: FileIndex
  #waiting: Waiting[] = []
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
      if (this.#running || this.#scheduled) return
      this.#scheduled = true
      setImmediate(() => {
        this.#scheduled = false
        void this.#pump()
      })
    })
  }

  async #pump(): Promise<void> {
    if (this.#running) return
    this.#running = true
    try {
      while (this.#waiting.length > 0) await this.#flush(this.#takeGroup())
    } finally {
      this.#running = false
    }
  }

  /** Up to MAX_GROUP waiting publications of distinct names (a second of one name waits). */
  #takeGroup(): Waiting[] {
    const names = new Set<string>()
    const group: Waiting[] = []
    const rest: Waiting[] = []
    for (const w of this.#waiting) {
      if (group.length < MAX_GROUP && !names.has(w.p.name)) {
        names.add(w.p.name)
        group.push(w)
      } else rest.push(w)
    }
    this.#waiting = rest
    return group
  }

  async #flush(group: Waiting[]): Promise<void> {
    let release: () => void
    try {
      release = await this.#lock(group.map((w) => w.p.name))
    } catch (err) {
      for (const w of group) w.reject(err)
      return
    }
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
      release()
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
  }
}
