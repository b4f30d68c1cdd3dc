/**
 * Receives one download body: data frames go into the caller's Writable (the socket is paused
 * while the Writable is full), the end frame's SHA-256 and the announced size are checked, and the
 * download's promise settles. Created by Connection when a download's ok response arrives.
 *
 * Pieces arrive as views into the connection's recycled read buffer, so they are copied into a
 * staging buffer of 256 KiB (see writeBlocks for why not more) and the sink gets one write per
 * staging buffer, instead of one per frame piece. Staged bytes are flushed when the buffer is full, at the end
 * of the body, on failure, and after FLUSH_DELAY_MS, so that a slow trickle (`cat`) still shows.
 * A file write stream gets recycled blocks (it is done with a chunk once the write has called
 * back); any other sink may keep what it is given, so it gets fresh buffers, sized to what is left
 * of the file.
 */
import { createHash } from 'node:crypto'
import { WriteStream } from 'node:fs'
import type { Writable } from 'node:stream'
import { finished } from 'node:stream/promises'
import { TandemError, type DownloadHeader } from '../protocol/client.js'
import type { Progress } from './body-sender.js'
import { writeBlocks } from './block-pool.js'

const FLUSH_DELAY_MS = 20 // longest a received byte waits for its staging buffer to fill

export interface DownloadOptions {
  /** Called with each piece written: (bytes received, file size). */
  onProgress?: Progress
  /** Called once the server has answered, before any byte arrives. */
  onHeader?(header: DownloadHeader): void
  /** End the sink and wait for it to finish (default true). Pass false for process.stdout. */
  end?: boolean
  /**
   * What the bytes are for, as the server's change log tells it: 'read' for a look at the file
   * (`cat`, the menu's "show"), 'download' (the default) for a copy kept.
   */
  purpose?: 'read' | 'download'
}

export interface DownloadResult extends DownloadHeader {
  /** Hex SHA-256 of the body, as verified. */
  sha256: string
}

interface Settle {
  resolve(result: unknown): void
  reject(error: Error): void
}

interface Flow {
  pause(): void
  resume(): void
}

export class DownloadReceiver {
  readonly #header: DownloadHeader
  readonly #sink: Writable
  readonly #options: DownloadOptions
  readonly #settle: Settle
  readonly #flow: Flow
  readonly #hash = createHash('sha256')
  #bytes = 0
  #error: Error | undefined
  #paused = false
  #staging: Buffer | undefined
  #staged = 0
  /** One timer per download, re-armed with refresh(): at most one flush per FLUSH_DELAY_MS. */
  #timer: NodeJS.Timeout | undefined
  #timerArmed = false
  /** True when staging blocks may be recycled once the sink has called back (see the header). */
  readonly #recycle: boolean

  constructor(
    header: DownloadHeader,
    sink: Writable,
    options: DownloadOptions,
    settle: Settle,
    flow: Flow,
  ) {
    this.#header = header
    this.#sink = sink
    this.#options = options
    this.#settle = settle
    this.#flow = flow
    this.#recycle = Object.getPrototypeOf(sink) === WriteStream.prototype
    sink.on('error', this.#onSinkError)
    options.onHeader?.(header)
  }

  data(piece: Buffer): void {
    // After a sink error the rest of the body is still read (to keep the framing), and dropped.
    if (this.#error) return
    this.#hash.update(piece)
    let offset = 0
    while (offset < piece.length) {
      const staging = (this.#staging ??= this.#newStaging())
      const copied = piece.copy(staging, this.#staged, offset)
      offset += copied
      this.#staged += copied
      this.#bytes += copied
      if (this.#staged === staging.length) this.#flush()
    }
    if (this.#staged > 0 && !this.#timerArmed) this.#armTimer()
    this.#options.onProgress?.(this.#bytes, this.#header.size)
  }

  /** A staging buffer: a recycled block, or a fresh one for what is left of the announced size. */
  #newStaging(): Buffer {
    if (this.#recycle) return writeBlocks.take()
    const left = this.#header.size - this.#bytes
    const full = writeBlocks.blockBytes
    return Buffer.allocUnsafe(left > 0 ? Math.min(left, full) : full)
  }

  /** Hand the staged bytes to the sink, and pause the socket if the sink is full. */
  #flush(): void {
    const staging = this.#staging
    if (!staging || this.#staged === 0) return
    const chunk = this.#staged === staging.length ? staging : staging.subarray(0, this.#staged)
    this.#staging = undefined
    this.#staged = 0
    if (this.#error) {
      if (this.#recycle) writeBlocks.give(staging)
      return
    }
    const ok = this.#recycle
      ? this.#sink.write(chunk, () => writeBlocks.give(staging))
      : this.#sink.write(chunk)
    if (!ok && !this.#paused) this.#pauseUntilDrained()
  }

  end(sha256: Buffer): void {
    this.#flush()
    const digest = this.#hash.digest()
    const error =
      this.#error ??
      (!digest.equals(sha256)
        ? new TandemError(
            'ERR_INTEGRITY',
            `the content received for '${this.#header.name}' does not match its SHA-256`,
          )
        : this.#bytes !== this.#header.size
          ? new TandemError(
              'ERR_INTEGRITY',
              `received ${this.#bytes} bytes of '${this.#header.name}', expected ${this.#header.size}`,
            )
          : undefined)
    if (error) return this.abort(error)
    this.#finish().then(
      () =>
        this.#done(() => this.#settle.resolve({ ...this.#header, sha256: digest.toString('hex') })),
      (err: unknown) => this.abort(err instanceof Error ? err : new Error(String(err))),
    )
  }

  /** Fail the download (the connection ended, or the body did not check out). */
  abort(error: Error): void {
    // What arrived still reaches the sink, as it did before staging: the caller decides its fate.
    if (!this.#error && !this.#sink.destroyed && this.#sink.writable) this.#flush()
    this.#done(() => this.#settle.reject(error))
  }

  async #finish(): Promise<void> {
    if (this.#options.end === false) {
      if (!this.#sink.writableNeedDrain) return
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.#sink.off('drain', done)
          this.#sink.off('close', done)
          resolve()
        }
        this.#sink.on('drain', done)
        this.#sink.on('close', done)
      })
      return
    }
    this.#sink.end()
    await finished(this.#sink, { readable: false })
  }

  #armTimer(): void {
    this.#timerArmed = true
    if (this.#timer) this.#timer.refresh()
    else this.#timer = setTimeout(this.#onTimer, FLUSH_DELAY_MS)
  }

  readonly #onTimer = (): void => {
    this.#timerArmed = false
    this.#flush()
  }

  #done(settle: () => void): void {
    clearTimeout(this.#timer)
    this.#timerArmed = false
    this.#sink.off('error', this.#onSinkError)
    if (this.#paused) this.#resume()
    settle()
  }

  #pauseUntilDrained(): void {
    this.#paused = true
    this.#flow.pause()
    this.#sink.once('drain', this.#resume)
    this.#sink.once('close', this.#resume)
  }

  readonly #resume = (): void => {
    if (!this.#paused) return
    this.#paused = false
    this.#sink.off('drain', this.#resume)
    this.#sink.off('close', this.#resume)
    this.#flow.resume()
  }

  readonly #onSinkError = (err: Error): void => {
    this.#error ??= err
    this.#resume()
  }
}
