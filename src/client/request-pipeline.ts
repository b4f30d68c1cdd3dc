/**
 * The sending half of a Connection: one queue of requests written to the socket strictly one
 * after the other (a request's body, if any, goes out whole before the next request starts), and
 * the list of requests that were sent and await their answer, in order. It honours the socket's
 * backpressure and counts requests not yet settled, so that a graceful close can wait for them.
 */
import type net from 'node:net'
import type { Writable } from 'node:stream'
import { encodeControl } from '../protocol/client.js'
import { sendBody, type BodySource, type Progress } from './body-sender.js'
import type { DownloadOptions } from './download-receiver.js'

/** A request that was sent and waits for its answer. */
export interface Awaiting {
  id: number
  resolve(result: unknown): void
  reject(error: Error): void
  /** Set for downloads: the body that follows an ok response goes here. */
  download?: { sink: Writable; options: DownloadOptions }
  /** A local failure while sending the body; reported instead of the server's answer. */
  localError?: Error
}

export interface SendJob {
  message: Record<string, unknown>
  body?: { source: BodySource; total: number | undefined; onProgress: Progress | undefined }
  entry: Omit<Awaiting, 'id'>
}

export class RequestPipeline {
  readonly #socket: net.Socket
  readonly #queue: SendJob[] = []
  readonly #awaiting: Awaiting[] = []
  readonly #idleWaiters: (() => void)[] = []
  #nextId = 1
  #pumping = false
  #outstanding = 0
  #stopped = false
  #failure: Error | undefined
  #corked = false

  constructor(socket: net.Socket) {
    this.#socket = socket
  }

  /** Queue a request; it is written as soon as the ones before it are. */
  enqueue(job: SendJob): void {
    this.#outstanding++
    const { resolve, reject } = job.entry
    job.entry.resolve = (result) => {
      this.#settled()
      resolve(result)
    }
    job.entry.reject = (error) => {
      this.#settled()
      reject(error)
    }
    this.#queue.push(job)
    if (!this.#pumping) void this.#pump()
  }

  /** Resolves when every queued request has settled. */
  whenIdle(): Promise<void> {
    if (this.#outstanding === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idleWaiters.push(resolve))
  }

  /** The request an answer with this id is for, if it is the next one due; removes it. */
  takeAnswered(id: number): Awaiting | undefined {
    if (this.#awaiting[0]?.id !== id) return undefined
    return this.#awaiting.shift()
  }

  get awaitingCount(): number {
    return this.#awaiting.length
  }

  /** Stop sending and fail every request, sent or not, with `error`. */
  failAll(error: Error): void {
    this.#stopped = true
    this.#failure ??= error
    for (const entry of this.#awaiting.splice(0)) entry.reject(error)
    for (const job of this.#queue.splice(0)) job.entry.reject(error)
  }

  #settled(): void {
    this.#outstanding--
    if (this.#outstanding === 0) for (const wake of this.#idleWaiters.splice(0)) wake()
  }

  async #pump(): Promise<void> {
    this.#pumping = true
    try {
      for (let job = this.#queue.shift(); job && !this.#stopped; job = this.#queue.shift()) {
        await this.#send(job)
      }
    } finally {
      this.#pumping = false
    }
  }

  async #send(job: SendJob): Promise<void> {
    const entry: Awaiting = { ...job.entry, id: this.#nextId++ }
    const begin = (): Buffer => {
      // Registered before the write: the answer cannot come before the request left. A body that
      // took its time to open may find the connection gone: it fails like the rest did.
      if (this.#failure) entry.reject(this.#failure)
      else this.#awaiting.push(entry)
      return encodeControl({ ...job.message, id: entry.id })
    }
    if (!job.body) return this.#write(begin())
    const { source, total, onProgress } = job.body
    const io = {
      begin,
      write: (data: Uint8Array | Uint8Array[], written?: () => void) => this.#write(data, written),
      fail: (err: Error) => job.entry.reject(err),
      localError: (err: Error) => (entry.localError = err),
      isClosed: () => this.#stopped,
    }
    await sendBody(io, source, total, onProgress)
  }

  /**
   * Write bytes; resolves at once, or when the socket drains if its buffer is full. The socket
   * stays corked until the end of the tick, so that everything written in one tick (the frames of
   * a body, or of many small uploads) leaves in one vectored write. `written` runs once the socket
   * is done with the bytes (even if it failed to send them).
   */
  #write(data: Uint8Array | Uint8Array[], written?: () => void): Promise<void> {
    if (this.#stopped || this.#socket.destroyed) {
      written?.()
      return Promise.resolve()
    }
    if (!this.#corked) {
      this.#corked = true
      this.#socket.cork()
      process.nextTick(() => {
        this.#corked = false
        this.#socket.uncork()
      })
    }
    const parts = Array.isArray(data) ? data : [data]
    let ok = true
    parts.forEach((part, i) => {
      const last = i === parts.length - 1
      ok = last && written ? this.#socket.write(part, written) : this.#socket.write(part)
    })
    if (ok) return Promise.resolve()
    return new Promise((resolve) => {
      const done = (): void => {
        this.#socket.off('drain', done)
        this.#socket.off('close', done)
        resolve()
      }
      this.#socket.on('drain', done)
      this.#socket.on('close', done)
    })
  }
}
