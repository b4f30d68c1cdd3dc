/**
 * The local end of a small download (a file planned at up to SMALL_DOWNLOAD_BYTES): a temp file
 * opened, written, given its mtime and closed with synchronous calls; its fsync (the call that
 * waits for the disk) runs in libuv's pool, and so does the rename that publishes it. Each
 * asynchronous file operation costs ~40-150 µs of CPU in thread hand-offs on these machines,
 * against a few µs for the system call, and the write stream path made eight of them per file
 * (open, a second descriptor for the background syncs, write, close, fsync, utimes, close,
 * rename): most of a small file's client CPU in a `get` of a folder.
 *
 * A file that grew since it was planned still arrives whole, nothing held in memory: each block
 * is one synchronous write (256 KiB at most). It gets no background syncs (sync-behind.ts), so
 * the final fsync of a file that grew large takes longer.
 */
import { closeSync, fsync, futimesSync, openSync, writeSync } from 'node:fs'
import { Writable } from 'node:stream'
import { Limits } from '../protocol/client.js'
import { promisify } from 'node:util'

const fsyncFd = promisify(fsync) // a bare descriptor, in libuv's pool

/** Files planned at up to this size take the synchronous path. */
export const SMALL_DOWNLOAD_BYTES = 64 * 1024 // 64 KiB

export class SmallFileSink extends Writable {
  #fd: number | undefined
  /** The first write that failed: seal() throws it (a write error shows only a tick later). */
  #failure: Error | undefined

  /** Creates `temp` (it must not exist: 'wx'), synchronously. */
  constructor(temp: string) {
    // Two blocks: a block the size of the high-water mark would pause the socket after each.
    super({ highWaterMark: 2 * Limits.dataChunk })
    this.#fd = openSync(temp, 'wx', 0o666)
    // Failures reach the download through seal() and the receiver; an 'error' emitted after the
    // download gave up on the sink must not be an uncaught exception.
    this.on('error', () => undefined)
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error) => void,
  ): void {
    try {
      for (let offset = 0; offset < chunk.length;)
        offset += writeSync(this.#open(), chunk, offset, chunk.length - offset)
      callback()
    } catch (err) {
      this.#failure ??= err as Error
      callback(err as Error)
    }
  }

  /** The whole body is written: fsync (in the pool), give it `mtime`, close. */
  async seal(mtime: number): Promise<void> {
    if (this.#failure) throw this.#failure
    const fd = this.#open()
    await fsyncFd(fd)
    futimesSync(fd, new Date(), new Date(mtime))
    this.#closeFd()
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    try {
      this.#closeFd()
    } catch {
      // A descriptor that fails to close on a failed download: the temp file is removed anyway.
    }
    callback(error)
  }

  #open(): number {
    if (this.#fd === undefined) throw new Error('the temp file is closed')
    return this.#fd
  }

  #closeFd(): void {
    const fd = this.#fd
    this.#fd = undefined
    if (fd !== undefined) closeSync(fd)
  }
}
