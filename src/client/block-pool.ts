/**
 * Recycled blocks for file bodies: upload reads and download staging. A fresh buffer costs more
 * than its copy (the kernel zero-fills every page on first touch, and the garbage collector has
 * to find it again), so blocks go back to their pool once whoever was given them (a socket, a
 * file write stream) has called back, and the next body reuses them.
 *
 * Only hand a block out where its release can be tied to the moment nothing refers to it anymore.
 */
import { Limits } from '../protocol/client.js'

export class BlockPool {
  readonly #idle: Buffer[] = []

  constructor(
    /** The size of every block of this pool. */
    readonly blockBytes: number,
    /** How many idle blocks are kept between bodies at most. */
    readonly maxIdle: number,
  ) {}

  /** A block to fill: a recycled one if any is idle. */
  take(): Buffer {
    return this.#idle.pop() ?? Buffer.allocUnsafeSlow(this.blockBytes)
  }

  /** Give a block back, once nothing else refers to it (buffers of another size are let go). */
  give(block: Buffer): void {
    if (this.#idle.length < this.maxIdle && block.length === this.blockBytes) this.#idle.push(block)
  }
}

/**
 * Upload reads: 1 MiB, the largest data frame (Limits.maxData), so each read is one frame and a
 * GiB takes 1,024 reads (each read is a thread hand-off, ~40 µs of CPU on a busy machine).
 */
export const readBlocks = new BlockPool(Limits.maxData, 4) // 1 MiB blocks, 4 MiB idle at most

/**
 * Download writes: 256 KiB. On the reference machine (a VM, Linux 6.18, ext4), writing 1 GiB of
 * fresh file through a write stream cost (user + kernel CPU) ~1.0 s in 64 KiB writes (thread
 * hand-offs), ~0.65 s in 128 KiB, ~0.42 s in 256 KiB, but 1.0-1.2 s in 512 KiB and 1.3-2.2 s in
 * 1 MiB writes: one larger write() gets larger page-cache folios, which are slow to come by here.
 */
export const writeBlocks = new BlockPool(256 * 1024, 8) // 256 KiB blocks, 2 MiB idle at most
