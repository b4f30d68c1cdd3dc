/**
 * A local file as a request body. To anyone it is a plain Readable (so it fits the public
 * BodySource type); body-sender recognises it and takes a faster path: positioned 1 MiB reads
 * into recycled blocks, each sent as one data frame (see sendFile in body-sender.ts).
 *
 * The file is opened on the first read. A small file is opened, read whole and closed with
 * synchronous calls: each asynchronous file operation costs ~40-150 µs of CPU in thread hand-offs
 * here, against ~5 µs for the three system calls, and that was most of a 4 KiB upload's client
 * cost. The event loop waits for at most SYNC_READ_LIMIT bytes from the disk.
 */
import { closeSync, openSync, readSync } from 'node:fs'
import fs, { type FileHandle } from 'node:fs/promises'
import { Readable } from 'node:stream'
import { readBlocks } from './block-pool.js'

const SYNC_READ_LIMIT = 64 * 1024 // 64 KiB: files up to this size are read synchronously

export class FileBody extends Readable {
  readonly #path: string
  readonly #size: number
  #handle: FileHandle | undefined
  #position = 0
  #ended = false

  /** `size` is what the file held when planned (it only chooses how to read). */
  constructor(path: string, size: number) {
    super()
    this.#path = path
    this.#size = size
  }

  /**
   * The buffer for the first read: a recycled block, or for a small file a buffer of its own one
   * byte longer than the file (a full read means it grew). Small files leave faster than a socket
   * calls back, so recycled blocks would not come back in time and each would be a fresh 1 MiB.
   */
  firstBuffer(): Buffer {
    return this.#size <= SYNC_READ_LIMIT ? Buffer.allocUnsafe(this.#size + 1) : readBlocks.take()
  }

  /** Read the file's next bytes into `target`; 0 at the end of the file. */
  async readInto(target: Buffer): Promise<number> {
    if (this.#ended) return 0
    if (this.#position === 0 && !this.#handle && this.#size <= SYNC_READ_LIMIT) {
      return this.#readWhole(target)
    }
    if (!this.#handle) {
      const handle = await fs.open(this.#path, 'r')
      if (this.destroyed) {
        await handle.close()
        return 0
      }
      this.#handle = handle
    }
    const { bytesRead } = await this.#handle.read(target, 0, target.length, this.#position)
    this.#position += bytesRead
    return bytesRead
  }

  /** One synchronous read; one shorter than `target` is the end of the (regular) file. */
  #readWhole(target: Buffer): number {
    const fd = openSync(this.#path, 'r')
    try {
      const length = readSync(fd, target, 0, target.length, 0)
      this.#position = length
      this.#ended = length < target.length
      return length
    } finally {
      closeSync(fd)
    }
  }

  // The plain Readable side, for a consumer other than body-sender: fresh buffers, read to EOF.
  override _read(): void {
    const buffer = Buffer.allocUnsafe(readBlocks.blockBytes)
    this.readInto(buffer).then(
      (length) => void this.push(length > 0 ? buffer.subarray(0, length) : null),
      (err: unknown) => this.destroy(err instanceof Error ? err : new Error(String(err))),
    )
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // A read-only descriptor that fails to close has nothing to lose: only `error` matters.
    const handle = this.#handle
    if (!handle) return callback(error)
    handle.close().then(
      () => callback(error),
      () => callback(error),
    )
  }
}
