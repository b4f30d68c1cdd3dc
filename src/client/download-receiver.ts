/**
 * Receives one download body: data frames go into the caller's Writable (the socket is paused
 * while the Writable is full), the end frame's SHA-256 and the announced size are checked, and the
 * download's promise settles. Created by Connection when a download's ok response arrives.
 */
import { createHash } from 'node:crypto'
import type { Writable } from 'node:stream'
import { finished } from 'node:stream/promises'
import { TandemError, type DownloadHeader } from '../protocol/index.js'
import type { Progress } from './body-sender.js'

export interface DownloadOptions {
  /** Called with each piece written: (bytes received, file size). */
  onProgress?: Progress
  /** Called once the server has answered, before any byte arrives. */
  onHeader?(header: DownloadHeader): void
  /** End the sink and wait for it to finish (default true). Pass false for process.stdout. */
  end?: boolean
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
    sink.on('error', this.#onSinkError)
    options.onHeader?.(header)
  }

  data(piece: Buffer): void {
    // After a sink error the rest of the body is still read (to keep the framing), and dropped.
    if (this.#error) return
    this.#hash.update(piece)
    this.#bytes += piece.length
    const ok = this.#sink.write(piece)
    this.#options.onProgress?.(this.#bytes, this.#header.size)
    if (!ok && !this.#paused) this.#pauseUntilDrained()
  }

  end(sha256: Buffer): void {
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

  #done(settle: () => void): void {
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
