/**
 * The main thread's half of one client connection: carries bytes between the socket and the
 * session worker (transferred ArrayBuffers, credit-based flow control both ways), and serves the
 * worker's calls that must run here: per-path locks, the change log, status and events.
 */
import type { Socket } from 'node:net'
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { toWireError, type LogEntry } from '../../protocol/index.js'
import type { FromWorker, ToWorker } from '../workers/messages.js'
import type { ServerCore } from '../core.js'

/** Bytes handed to the worker and not yet consumed before the socket is paused. */
const IN_HIGH_WATER = 4 * 1024 * 1024 // 4 MiB
const IN_LOW_WATER = 1024 * 1024 // 1 MiB

export class SessionBridge {
  readonly sessionId: string
  readonly remoteAddress: string
  readonly connectedAt = Date.now()
  clientId = '?'
  readonly #socket: Socket
  readonly #core: ServerCore
  readonly #port: MessagePort
  readonly workerPort: MessagePort
  #inFlight = 0
  #paused = false
  #nextToken = 1
  readonly #locks = new Map<number, () => void>()
  #unfollow: (() => void) | undefined
  /** Bytes written while the socket needed draining: credited to the worker on 'drain'. */
  #awaitingDrain = 0
  #socketClosed = false
  #taskDone = false

  constructor(socket: Socket, sessionId: string, core: ServerCore) {
    this.sessionId = sessionId
    this.#socket = socket
    this.#core = core
    this.remoteAddress = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`
    const { port1, port2 } = new MessageChannel()
    this.#port = port1
    this.workerPort = port2
    port1.on('message', (message: FromWorker) => this.#onWorkerMessage(message))
    socket.on('data', (chunk: Buffer) => this.#onSocketData(chunk))
    socket.on('close', () => this.#onSocketClose())
    socket.on('error', () => undefined) // 'close' follows; a reset client is not a server error
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
    if (!this.#taskDone) this.#port.postMessage(message, transfer)
  }

  #onSocketData(chunk: Buffer): void {
    // A socket chunk normally owns its whole ArrayBuffer: transfer it. Otherwise copy.
    const owns = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength
    const buf = owns ? (chunk.buffer as ArrayBuffer) : (chunk.buffer.slice(chunk.byteOffset, chunk.byteOffset + chunk.byteLength) as ArrayBuffer)
    this.#inFlight += buf.byteLength
    this.#toWorker({ t: 'in', buf }, [buf])
    if (this.#inFlight > IN_HIGH_WATER && !this.#paused) {
      this.#paused = true
      this.#socket.pause()
    }
  }

  #onSocketClose(): void {
    this.#socketClosed = true
    this.#toWorker({ t: 'closed' })
    this.#core.sessionClosed(this)
    this.#maybeFinish()
  }

  #maybeFinish(): void {
    if (!this.#socketClosed || !this.#taskDone) return
    // Only now: until its task ends, the worker may still be inside a locked step.
    this.#releaseAll()
    this.#port.close()
  }

  #onWorkerMessage(message: FromWorker): void {
    switch (message.t) {
      case 'out':
        return this.#write(message.bufs)
      case 'ack':
        return this.#onAck(message.bytes)
      case 'hello':
        this.clientId = message.clientId
        return this.#core.sessionHello(this)
      case 'lock':
        return void this.#lock(message.req, message.names, message.mode)
      case 'unlock':
        return this.#unlock(message.token)
      case 'log':
        return this.#core.record(message.entry, message.record)
      case 'query':
        return this.#reply(message.req, message.what === 'log' ? this.#core.changeLog.recent(message.limit) : this.#core.status())
      case 'follow':
        this.#unfollow ??= this.#core.changeLog.subscribe((entry: LogEntry) => this.#toWorker({ t: 'event', entry }))
        return
      case 'close':
        if (message.reason !== 'session ended') this.#core.console.sessionClosed(this, message.reason)
        this.#socket.end()
        return
    }
  }

  #write(bufs: ArrayBuffer[]): void {
    let bytes = 0
    this.#socket.cork()
    for (const buf of bufs) {
      bytes += buf.byteLength
      this.#socket.write(new Uint8Array(buf))
    }
    this.#socket.uncork()
    // Credit returns when the socket has taken the bytes (its buffer drained below its mark).
    if (this.#awaitingDrain === 0 && !this.#socket.writableNeedDrain) return this.#toWorker({ t: 'sent', bytes })
    if (this.#awaitingDrain === 0) {
      this.#socket.once('drain', () => {
        const credit = this.#awaitingDrain
        this.#awaitingDrain = 0
        this.#toWorker({ t: 'sent', bytes: credit })
      })
    }
    this.#awaitingDrain += bytes
  }

  #onAck(bytes: number): void {
    this.#inFlight -= bytes
    if (this.#paused && this.#inFlight < IN_LOW_WATER) {
      this.#paused = false
      this.#socket.resume()
    }
  }

  async #lock(req: number, names: string[], mode: 'read' | 'write'): Promise<void> {
    try {
      const release = await this.#core.locks.acquire(names, mode, this.#core.config.lockTimeoutMs)
      if (this.#taskDone) return release() // the session ended while it waited
      const token = this.#nextToken++
      this.#locks.set(token, release)
      this.#toWorker({ t: 'lock-granted', req, token })
    } catch (err) {
      this.#toWorker({ t: 'lock-failed', req, error: toWireError(err) })
    }
  }

  #unlock(token: number): void {
    this.#locks.get(token)?.()
    this.#locks.delete(token)
  }

  #reply(req: number, value: unknown): void {
    this.#toWorker({ t: 'reply', req, value })
  }

  /** A session that has ended never keeps a lock. */
  #releaseAll(): void {
    for (const release of this.#locks.values()) release()
    this.#locks.clear()
    this.#unfollow?.()
    this.#unfollow = undefined
  }
}
