/**
 * 1 MiB buffers for reading files through the thread pool, kept for reuse by the thread that
 * made them. A buffer that waits on a read lives through young-generation collections and
 * reaches the old space, where only a full collection frees it; the server's threads have small
 * heaps that rarely need one, so each hashed or copied file used to leave its buffers resident
 * for a long while: a sync worker that hashed eleven big files at start held 23 MiB of dead
 * buffers through the nine-client uploads that came next. Reused, a thread keeps at most
 * MAX_SPARE of them, and lets them go once it has read nothing for SPARE_IDLE_MS (or when its
 * idle collect runs, workers/idle-collect.ts), so an idle thread holds none. See ARCHITECTURE.md,
 * "Memory".
 */

import { SparePool } from './spare-pool.js'

export const READ_BUFFER_BYTES = 1024 * 1024
export const MAX_SPARE = 4
/** How long after the last buffer came back the spare ones are let go. */
export const SPARE_IDLE_MS = 2_000

const spare = new SparePool<Buffer>(READ_BUFFER_BYTES, MAX_SPARE, SPARE_IDLE_MS)

/** A buffer of READ_BUFFER_BYTES (contents undefined). */
export function takeReadBuffer(): Buffer {
  return spare.take() ?? Buffer.allocUnsafeSlow(READ_BUFFER_BYTES)
}

/** Give a buffer back: only once no read into it (and no write from it) is still in flight. */
export function giveBackReadBuffer(buf: Buffer): void {
  spare.give(buf)
}

/** The spare buffers are let go (garbage for the next full collection). */
export function dropSpareReadBuffers(): void {
  spare.drop()
}

/** How many buffers wait for reuse (for tests). */
export function spareReadBuffers(): number {
  return spare.count
}

/**
 * Run `use` with a read buffer, given back when it settles, whichever way: `use` must await
 * every read and write of the buffer it starts (no read ahead left in flight when it throws).
 */
export async function withReadBuffer<T>(use: (buf: Buffer) => Promise<T>): Promise<T> {
  const buf = takeReadBuffer()
  try {
    return await use(buf)
  } finally {
    giveBackReadBuffer(buf)
  }
}
