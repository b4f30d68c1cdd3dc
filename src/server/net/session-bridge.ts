/**
 * The main thread's half of one admitted client connection (its hello read by the hello gate):
 * carries bytes between the socket and the session worker (pooled, transferred ArrayBuffers that
 * travel back for reuse; credit-based flow control both ways), and serves the worker's calls that
 * must run here: per-path locks, the change log, status and events.
 */
import type { Socket } from 'node:net'
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads'
import { toWireError } from '../../protocol/index.js'
import type { FromWorker, ToWorker } from '../workers/messages.js'
import { endOfTurn, Outbox } from '../workers/request-reply.js'
import type { ServerCore } from '../core.js'
import { destroyAfterGrace } from './close-with-error.js'
import type { Greeted } from './hello-gate.js'
import { isServiceMessage, MainServices } from './main-services.js'
import { readIntoBuffers } from './socket-reads.js'

/**
 * Bytes handed to the worker and not yet consumed before the socket is paused. A session alone
 * gets a deep window (measured, one 1 GiB upload: 331-336 MiB/s with 2 MiB, 346-412 MiB/s with
 * 8 MiB); several share one small budget, within a floor, which bounds the server's memory
 * whatever the number of clients. Measured, nine `tandem put` of 128 MiB at once into a fresh
 * server (peak RSS, 3 runs): 165-173 MiB with 16 MiB shared (2 MiB at least each), 150-158 with
 * 8 MiB, 144-154 with 4 MiB (0.5 MiB each), at the same speed.
 */
const IN_WINDOW_ALONE = 8 * 1024 * 1024 // 8 MiB
const IN_BUDGET = 4 * 1024 * 1024 // 4 MiB for all sessions together, when there are several
const IN_WINDOW_MIN = 512 * 1024 // 512 KiB

/**
 * Socket bytes are read straight into pooled buffers of this size (socket-reads.ts), which go to
 * the worker whole: one message per 256 KiB instead of one per 64 KiB socket read, and the worker
 * hands each buffer back for reuse, so little garbage piles up in either heap (a turn's short
 * part goes in a buffer of its own size, left to the GC: #flushPart). 256 KiB, not more:
 * each buffer is one write into the temp file, and larger writes cost more here (block-pool.ts).
 */
const IN_BUFFER_SIZE = 256 * 1024

/**
 * The buffer the socket reads into: bytes up to `length` are filled, those before `sent` already
 * went to the worker as a copy (a turn of the event loop ended with the buffer part full).
 */
interface Fill {
  buf: ArrayBuffer
  view: Uint8Array
  length: number
  sent: number
}

function exactFill(length: number): Fill {
  const buf = new ArrayBuffer(length)
  return { buf, view: new Uint8Array(buf), length: 0, sent: 0 }
}

export class SessionBridge {
  readonly sessionId: string
  readonly remoteAddress: string
  readonly connectedAt = Date.now()
  readonly clientId: string
  readonly #socket: Socket
  readonly #core: ServerCore
  readonly #port: MessagePort
  readonly workerPort: MessagePort
  /**
   * Messages for the worker (lock grants, replies, events, byte chunks), sent together at the end
   * of this turn of the event loop: a pipelined burst's replies cost one postMessage, not one each.
   */
  readonly #outbox: Outbox<ToWorker>
  #inFlight = 0
  #paused = false
  readonly #inPool: ArrayBuffer[] = []
  #fill: Fill | undefined
  /** True once the socket reads into #fill itself (else: 'data' events, copied in). */
  #direct = false
  #fillScheduled = false
  #sentBytes = 0
  #sentBufs: ArrayBuffer[] = []
  readonly #services: MainServices
  #socketClosed = false
  #taskDone = false
  #portClosed = false

  constructor(greeted: Greeted, sessionId: string, core: ServerCore) {
    const { socket } = greeted
    this.sessionId = sessionId
    this.clientId = greeted.hello.id
    this.#socket = socket
    this.#core = core
    this.remoteAddress = greeted.address
    const { port1, port2 } = new MessageChannel()
    this.#port = port1
    this.workerPort = port2
    this.#outbox = new Outbox((message, transfer) => {
      if (!this.#taskDone && !this.#portClosed) this.#port.postMessage(message, transfer)
    }, endOfTurn)
    // The client is the one that said hello on this socket, whatever a message claims.
    this.#services = new MainServices(
      core,
      (m) => this.#toWorker(m),
      () => this.clientId,
    )
    port1.on('message', (message: FromWorker) => this.#dispatch(message, 'running'))
    socket.on('close', () => this.#onSocketClose())
    socket.on('error', () => undefined) // 'close' follows; a reset client is not a server error
    // Requests that came with the hello, read by the gate: the worker sees them first.
    if (greeted.rest.length > 0) this.#onSocketData(greeted.rest)
    this.#direct = readIntoBuffers(
      socket,
      () => this.#readTarget(),
      (bytes) => this.#onRead(bytes),
    )
    if (!this.#direct) socket.on('data', (chunk: Buffer) => this.#onSocketData(chunk))
  }

  /** The worker task ended (normally or not). */
  taskSettled(error?: unknown): void {
    this.#taskDone = true
    if (error !== undefined) {
      console.error(`[session ${this.sessionId}] worker failed:`, error)
      this.#socket.destroy()
    }
    this.#maybeFinish()
  }

  shutdown(): void {
    this.#toWorker({ t: 'shutdown' })
  }

  destroy(): void {
    this.#socket.destroy()
  }

  #toWorker(message: ToWorker, transfer?: ArrayBuffer[]): void {
    if (!this.#taskDone && !this.#portClosed) this.#outbox.post(message, transfer)
  }

  /**
   * Bytes for the worker leave now, with what was queued before them: the worker waits for them,
   * and the callers already run at the end of a turn (or hand over a whole buffer).
   */
  #bytesToWorker(message: ToWorker, transfer: ArrayBuffer[]): void {
    this.#toWorker(message, transfer)
    this.#outbox.flush()
  }

  /** Bytes that came as a 'data' event (the hello gate's rest, or reads without socket-reads). */
  #onSocketData(chunk: Buffer): void {
    let offset = 0
    while (offset < chunk.length) {
      const fill = (this.#fill ??= this.#newFill())
      const take = Math.min(IN_BUFFER_SIZE - fill.length, chunk.length - offset)
      fill.view.set(chunk.subarray(offset, offset + take), fill.length)
      fill.length += take
      offset += take
      if (fill.length === IN_BUFFER_SIZE) this.#flushIn()
    }
    this.#afterRead()
  }

  /** Where the socket's next read goes: the free end of the current buffer. */
  #readTarget(): Uint8Array {
    const fill = (this.#fill ??= this.#newFill())
    return fill.view.subarray(fill.length)
  }

  /** A read put `bytes` into the current buffer (#readTarget's view). */
  #onRead(bytes: number): void {
    const fill = this.#fill!
    fill.length += bytes
    // Transferred only here, between a read and the next #readTarget: the socket never reads
    // into a buffer the worker owns.
    if (fill.length === IN_BUFFER_SIZE) this.#flushIn()
    this.#afterRead()
  }

  #afterRead(): void {
    // What the socket delivered in this turn of the event loop goes over in one message.
    if (this.#fill && !this.#fillScheduled) {
      this.#fillScheduled = true
      setImmediate(() => {
        this.#fillScheduled = false
        this.#flushPart()
      })
    }
    if (this.#inFlight > this.#window() && !this.#paused) {
      this.#paused = true
      this.#socket.pause()
    }
  }

  #window(): number {
    const sessions = this.#core.sessions.size
    if (sessions <= 1) return IN_WINDOW_ALONE
    return Math.max(IN_WINDOW_MIN, IN_BUDGET / sessions)
  }

  #newFill(): Fill {
    const buf = this.#inPool.pop() ?? new ArrayBuffer(IN_BUFFER_SIZE)
    return { buf, view: new Uint8Array(buf), length: 0, sent: 0 }
  }

  /** The current buffer goes to the worker (its bytes not sent yet as a copy). */
  #flushIn(): void {
    const fill = this.#fill
    if (!fill) return
    this.#fill = undefined
    const length = fill.length - fill.sent
    this.#inFlight += length
    this.#bytesToWorker({ t: 'in', buf: fill.buf, offset: fill.sent, length }, [fill.buf])
  }

  /**
   * The end of a turn: what the current buffer holds goes to the worker now. Read into directly,
   * the buffer stays (the socket's next read lands in it): its new bytes go as a copy, in a
   * buffer of their own (a pooled one when they fill more than half of it, else one of their
   * exact size). At full speed reads fill buffers whole and this copies at most the last part
   * of each turn.
   */
  #flushPart(): void {
    if (!this.#direct) return this.#flushIn()
    const fill = this.#fill
    if (!fill || fill.length === fill.sent) return
    const length = fill.length - fill.sent
    // A short part gets a buffer of its own size: with many clients each turn's part is a single
    // read (tens of KiB), and 256 KiB pooled buffers held that much memory four times over while
    // the window counted only the bytes.
    const copy = length > IN_BUFFER_SIZE / 2 ? this.#newFill() : exactFill(length)
    copy.view.set(fill.view.subarray(fill.sent, fill.length))
    fill.sent = fill.length
    this.#inFlight += length
    this.#bytesToWorker({ t: 'in', buf: copy.buf, offset: 0, length }, [copy.buf])
  }

  #onSocketClose(): void {
    this.#socketClosed = true
    this.#flushIn() // bytes that arrived just before the close are still processed
    this.#toWorker({ t: 'closed' })
    this.#core.sessionClosed(this)
    this.#maybeFinish()
  }

  #maybeFinish(): void {
    if (!this.#socketClosed || !this.#taskDone || this.#portClosed) return
    // Piscina reports the task's end on another port, so messages the worker queued just before
    // (a last log line, an unlock) may still wait on this one: take them first, each on its own,
    // a turn's batch unpacked (one whose handler throws must not keep a later notice or unlock
    // from being done, nor the release below). Never throws: it runs from the socket's 'close'.
    for (let m = receiveMessageOnPort(this.#port); m; m = receiveMessageOnPort(this.#port))
      this.#dispatch(m.message as FromWorker, 'finishing')
    try {
      // Only now: until its task ends, the worker may still be inside a locked step.
      this.#releaseAll()
    } catch (err) {
      console.error(`[session ${this.sessionId}] could not release what it held:`, err)
    }
    this.#portClosed = true
    this.#port.close()
    this.#inPool.length = 0
    // After the last acks: the buffers they handed back are among what the collect frees.
    this.#core.sessionFinished()
  }

  /**
   * A message from the worker, a turn's batch unpacked, each on its own: a handler that throws
   * (a bug) fails its own session, not the main thread, which serves every other client. A
   * request among them is answered with the error, so the worker never waits on it. While the
   * session runs, its socket is destroyed (the worker's task then ends, and the finish releases
   * what the session held); at the finish, the rest of the messages are still handled.
   */
  #dispatch(message: FromWorker, phase: 'running' | 'finishing'): void {
    for (const one of message.t === 'batch' ? message.messages : [message]) {
      if (one.t === 'batch') {
        this.#dispatch(one, phase) // none is made today (Outbox batches are flat): never dropped
        continue
      }
      try {
        this.#onWorkerMessage(one)
      } catch (err) {
        if ('req' in one && typeof one.req === 'number')
          this.#toWorker({ t: 'reply-failed', req: one.req, error: toWireError(err) })
        if (phase === 'finishing') {
          console.error(`[session ${this.sessionId}] a last message failed:`, err)
        } else if (!this.#socket.destroyed) {
          console.error(`[session ${this.sessionId}] a '${one.t}' message failed; closing:`, err)
          this.#socket.destroy()
        }
      }
    }
  }

  #onWorkerMessage(message: Exclude<FromWorker, { t: 'batch' }>): void {
    if (isServiceMessage(message)) return this.#services.handle(message)
    switch (message.t) {
      case 'out':
        return this.#write(message.bufs)
      case 'ack':
        return this.#onAck(message.bytes, message.bufs)
      case 'close':
        if (message.reason !== 'session ended')
          this.#core.console.sessionClosed(this, message.reason)
        this.#socket.end()
        // end() waits for the peer to close its side too: a client that never does (or never
        // reads what is left to send) must not keep its slot.
        destroyAfterGrace(this.#socket)
        return
    }
  }

  #write(bufs: ArrayBuffer[]): void {
    this.#socket.cork()
    for (const buf of bufs) this.#socket.write(new Uint8Array(buf), () => this.#written(buf))
    this.#socket.uncork()
  }

  /**
   * A buffer has been handed to the kernel: credit its bytes to the worker (which stops reading
   * files while too much is unsent) and give the buffer back for reuse. Batched per loop turn.
   */
  #written(buf: ArrayBuffer): void {
    if (this.#sentBytes === 0) {
      setImmediate(() => {
        const bytes = this.#sentBytes
        const bufs = this.#sentBufs
        this.#sentBytes = 0
        this.#sentBufs = []
        this.#bytesToWorker({ t: 'sent', bytes, bufs }, bufs)
      })
    }
    this.#sentBytes += buf.byteLength
    this.#sentBufs.push(buf)
  }

  #onAck(bytes: number, bufs: ArrayBuffer[]): void {
    for (const buf of bufs)
      if (
        !this.#socketClosed && // no more reads: nothing to pool for
        this.#inPool.length < this.#window() / IN_BUFFER_SIZE + 2 &&
        buf.byteLength === IN_BUFFER_SIZE
      )
        this.#inPool.push(buf)
    this.#inFlight -= bytes
    if (this.#paused && this.#inFlight < this.#window() / 4) {
      this.#paused = false
      this.#socket.resume()
    }
  }

  /** A session that has ended never keeps a lock. */
  #releaseAll(): void {
    this.#services.end()
  }
}
