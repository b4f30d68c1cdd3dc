/**
 * Recycled 1 MiB blocks for file bodies: upload reads and download staging. A fresh 1 MiB buffer
 * costs more than its copy (the kernel zero-fills every page on first touch, and the garbage
 * collector has to find it again), so blocks go back here once whoever was given them (a socket,
 * a file write stream) has called back, and the next body reuses them.
 *
 * Only hand a block out where its release can be tied to the moment nothing refers to it anymore.
 */

/** The size of one block: one file read, one data frame, one sink write. */
export const BLOCK_BYTES = 1024 * 1024 // 1 MiB, the largest data frame (Limits.maxData)
const MAX_IDLE_BLOCKS = 4 // 4 MiB kept between bodies at most

const idle: Buffer[] = []

/** A block to fill: a recycled one if any is idle. */
export function takeBlock(): Buffer {
  return idle.pop() ?? Buffer.allocUnsafeSlow(BLOCK_BYTES)
}

/** Give a block back, once nothing else refers to it (buffers of another size are let go). */
export function returnBlock(block: Buffer): void {
  if (idle.length < MAX_IDLE_BLOCKS && block.length === BLOCK_BYTES) idle.push(block)
}
