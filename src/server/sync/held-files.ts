/**
 * What the applier and the user locks know of each other: two narrow interfaces, owned here, so
 * that neither imports the other and the composition root (engine.ts) builds them in order.
 */
import type { FileEntry } from '../index/entry.js'
import type { PeerSource } from './peer-source.js'

/** Files held still here (user locks): the applier queues their updates instead of applying. */
export interface HeldFiles {
  /** Is `name` held still here? */
  held(name: string): boolean
  /** Keep a peer's update to a held file (with its content) until the file is let go. */
  enqueue(peer: PeerSource, entry: FileEntry): Promise<void>
}

/** Applies a peer's entries under the locks (the applier): how a held file's queue is applied. */
export interface BatchApplier {
  applyBatch(source: PeerSource, entries: readonly FileEntry[]): Promise<void>
}
