/**
 * The worker's end of a connection's MessagePort: bytes in as a queue, bytes out with credit-based
 * flow control, request/reply calls to the main thread (locks, queries), and notifications.
 *
 * Everything the worker says in one turn of its event loop (socket bytes, acknowledgements, lock
 * requests, log lines) leaves as one message, in order, at the turn's end (setImmediate): a
 * pipelined burst of small requests costs one postMessage a turn, not several per request. The
 * main thread batches its side the same way (session-bridge.ts).
 */
import type { MessagePort } from 'node:worker_threads'
import { FRAME_HEADER_LENGTH, Limits, type LogEntry } from '../../protocol/index.js'
import { SparePool } from '../storage/spare-pool.js'
import type { FromWorker, ToWorker } from './messages.js'
import { endOfTurn, Outbox, Requests, unbatch, type Batch } from './request-reply.js'

/** Unsent bytes (posted to main, not yet written to the socket) before senders wait. */
const OUT_HIGH_WATER = 2 * 1024 * 1024 // 2 MiB
/**
 * Buffers the main thread hands back once the socket has written them are kept for reuse only if
 * they are a download's whole frame (session/download.ts), the one size asked for again and
 * again; any other (a listing's control frame, a small file's body, a last short frame) is left
 * to the collector. At most SPARE_MAX, let go SPARE_IDLE_MS after the last one came back, so
 * that a connection that downloaded once does not hold them for the rest of its life.
 */
export const SPARE_BYTES = FRAME_HEADER_LENGTH + Limits.maxData
export const SPARE_MAX = 4
export const SPARE_IDLE_MS = 2_000

/** A chunk of socket bytes: `length` bytes from `offset` of a pooled buffer owned by the main thread. */
export interface InChunk {
  buf: ArrayBuffer
  offset: number
  length: number
}

export interface PortLinkHandlers {
  onEvent(entry: LogEntry): void
  onShutdown(): void
  onActivity(): void
  onClosed(): void
}

export class PortLink {
  readonly #handlers: PortLinkHandlers
  readonly #inbox: InChunk[] = []
  #inboxWaiter: ((chunk: InChunk | null) => void) | undefined
  /** Messages for the main thread, sent together at the end of this turn of the event loop. */
  readonly #outbox: Outbox<FromWorker>
  #unsent = 0
  #drainWaiters: (() => void)[] = []
  readonly #spare = new SparePool<ArrayBuffer>(SPARE_BYTES, SPARE_MAX, SPARE_IDLE_MS)
  readonly #requests = new Requests()
  #closed = false

  constructor(port: MessagePort, handlers: PortLinkHandlers) {
    this.#handlers = handlers
    this.#outbox = new Outbox((message, transfer) => port.postMessage(message, transfer), endOfTurn)
    port.on('message', (message: ToWorker | Batch<ToWorker>) => {
      for (const one of unbatch(message)) this.#onMessage(one)
    })
  }

  get closed(): boolean {
    return this.#closed
  }

  /** The next chunk from the socket, or null once the connection is closed. */
  nextChunk(): Promise<InChunk | null> {
    const chunk = this.#inbox.shift()
    if (chunk !== undefined) return Promise.resolve(chunk)
    if (this.#closed) return Promise.resolve(null)
    return new Promise((resolve) => (this.#inboxWaiter = resolve))
  }

  /**
   * A chunk is consumed: credit its bytes and hand its buffer back. The caller must hold no view
   * of the buffer any more: the transfer detaches it.
   */
  ack(chunk: InChunk): void {
    const last = this.#outbox.last()
    if (last?.t === 'ack') {
      last.bytes += chunk.length
      last.bufs.push(chunk.buf)
      this.#outbox.transfer([chunk.buf])
    } else {
      this.#outbox.post({ t: 'ack', bytes: chunk.length, bufs: [chunk.buf] }, [chunk.buf])
    }
  }

  /** A buffer of `size` bytes to fill and `send` whole: a returned one when there is one. */
  takeBuffer(size: number): Buffer {
    const spare = size === SPARE_BYTES ? this.#spare.take() : undefined
    return Buffer.from(spare ?? new ArrayBuffer(size))
  }

  /** How many returned buffers are kept for reuse (for tests). */
  get spareCount(): number {
    return this.#spare.count
  }

  /**
   * Queue bytes for the socket. A buffer that owns its whole ArrayBuffer is transferred; any other
   * (a view into a pool) is copied. Dropped once the connection is closed.
   */
  send(buffers: readonly Uint8Array[]): void {
    if (this.#closed) return
    const bufs: ArrayBuffer[] = []
    for (const buffer of buffers) {
      const owns =
        buffer.byteOffset === 0 &&
        buffer.byteLength === buffer.buffer.byteLength &&
        buffer.buffer instanceof ArrayBuffer
      const ab = owns
        ? (buffer.buffer as ArrayBuffer)
        : (buffer.buffer.slice(
            buffer.byteOffset,
            buffer.byteOffset + buffer.byteLength,
          ) as ArrayBuffer)
      bufs.push(ab)
      this.#unsent += ab.byteLength
    }
    const last = this.#outbox.last()
    if (last?.t === 'out') {
      last.bufs.push(...bufs)
      this.#outbox.transfer(bufs)
    } else this.#outbox.post({ t: 'out', bufs }, bufs)
  }

  /** Resolves when the unsent bytes are under the high-water mark (or the connection closed). */
  whenWritable(): Promise<void> {
    if (this.#unsent < OUT_HIGH_WATER || this.#closed) return Promise.resolve()
    return new Promise((resolve) => this.#drainWaiters.push(resolve))
  }

  /**
   * A message to the main thread. Still delivered after the socket closed: a commit whose body
   * arrived whole finishes (takes its lock, records itself) even if its client is gone.
   */
  post(message: FromWorker): void {
    this.#outbox.post(message)
  }

  /** A request to the main thread; `make` builds the message around the request id. */
  call<T>(make: (req: number) => FromWorker): Promise<T> {
    return this.#requests.call<T>((req) => this.#outbox.post(make(req)))
  }

  /** Send what is queued now, not at the end of this turn. */
  flush(): void {
    this.#outbox.flush()
  }

  /** Flush queued bytes, then ask the main thread to close the socket. */
  closeConnection(reason: string): void {
    this.#outbox.post({ t: 'close', reason })
    this.flush()
  }

  #onMessage(message: ToWorker): void {
    switch (message.t) {
      case 'in':
        this.#handlers.onActivity()
        return this.#pushInbox({ buf: message.buf, offset: message.offset, length: message.length })
      case 'sent':
        this.#handlers.onActivity()
        if (!this.#closed) for (const buf of message.bufs) this.#spare.give(buf)
        return this.#onSent(message.bytes)
      case 'reply':
      case 'reply-failed':
        return this.#requests.settle(message)
      case 'event':
        return this.#handlers.onEvent(message.entry)
      case 'shutdown':
        return this.#handlers.onShutdown()
      case 'closed':
        return this.#onClosed()
    }
  }

  #pushInbox(chunk: InChunk | null): void {
    const waiter = this.#inboxWaiter
    if (waiter) {
      this.#inboxWaiter = undefined
      waiter(chunk)
    } else if (chunk) this.#inbox.push(chunk)
  }

  #onSent(bytes: number): void {
    this.#unsent -= bytes
    if (this.#unsent < OUT_HIGH_WATER) this.#wakeWriters()
  }

  #wakeWriters(): void {
    const waiters = this.#drainWaiters
    this.#drainWaiters = []
    for (const wake of waiters) wake()
  }

  #onClosed(): void {
    if (this.#closed) return
    this.#closed = true
    this.#spare.drop()
    this.#handlers.onClosed()
    this.#pushInbox(null)
    this.#wakeWriters()
  }
}
