/**
 * What the applier is given to apply a peer's entries: where their content comes from, where it
 * tells what it did, and where it sets aside what it cannot apply yet.
 */
import type { FileEntry } from '../index/entry.js'
import type { ContentSink } from '../storage/sealed-file.js'

/** Where a peer's content comes from. */
export interface PeerSource {
  readonly name: string
  /** Set when this source is a user lock's queue being applied: that name is not held for it. */
  readonly unlocks?: string
  /**
   * Set when this source retries set-aside entries: the peer's generation (bumped at each new
   * epoch of the peer) the retry started in. Reports from an older generation are ignored.
   */
  readonly generation?: number
  /** Told of what was done with this source's entries (besides the applier's own report). */
  onReport?(report: SyncReport): void
  fetch(
    name: string,
    hash: string,
    size: number,
    /** A temp file, or a small body held in memory (content-source.ts). */
    temp: ContentSink,
  ): Promise<{ size: number; mtime: number }>
}

export interface SyncReport {
  op: 'sync-pull' | 'sync-delete' | 'sync-rename' | 'sync-conflict'
  name: string
  to?: string
  size?: number
  peer: string
  detail?: string
}

/** Where entries that cannot be applied here yet are kept (see set-aside.ts). */
export interface SetAsideSink {
  add(source: PeerSource, entry: FileEntry, err: unknown): void
  cleared(source: PeerSource, entry: FileEntry): void
}
