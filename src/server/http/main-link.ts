/**
 * The HTTP worker's line to the main thread: numbered calls with their answers, posts, and the
 * change-log events the main thread forwards (fanned out here to every event stream).
 */
import type { MessagePort } from 'node:worker_threads'
import { TandemError, type LogEntry, type WireError } from '../../protocol/index.js'
import type { MainCaller } from '../session/link-adapters.js'
import type { FromHttpWorker, ToHttpWorker } from './messages.js'

interface Pending {
  resolve(value: unknown): void
  reject(err: Error): void
}

export class MainLink implements MainCaller {
  #nextReq = 1
  readonly #pending = new Map<number, Pending>()
  readonly #listeners = new Set<(entry: LogEntry) => void>()
  #following = false
  #onShutdown: () => void = () => undefined

  /** `port`: the worker's parentPort (or one end of a channel, when HTTP runs in the main thread). */
  constructor(private readonly port: MessagePort) {
    port.on('message', (message: ToHttpWorker) => this.#onMessage(message))
  }

  onShutdown(fn: () => void): void {
    this.#onShutdown = fn
  }

  post(message: FromHttpWorker): void {
    this.port.postMessage(message)
  }

  call<T>(make: (req: number) => FromHttpWorker): Promise<T> {
    const req = this.#nextReq++
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(req, { resolve: resolve as (value: unknown) => void, reject })
      this.post(make(req))
    })
  }

  /** Every new change-log entry, from now on, until the returned function is called. */
  subscribe(listener: (entry: LogEntry) => void): () => void {
    if (!this.#following) {
      this.#following = true
      this.post({ t: 'follow' })
    }
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  #settle(req: number, value: unknown, error?: WireError): void {
    const pending = this.#pending.get(req)
    if (!pending) return
    this.#pending.delete(req)
    if (error) pending.reject(TandemError.fromWire(error))
    else pending.resolve(value)
  }

  #onMessage(message: ToHttpWorker): void {
    switch (message.t) {
      case 'lock-granted':
        return this.#settle(message.req, message.token)
      case 'lock-failed':
      case 'reply-failed':
        return this.#settle(message.req, undefined, message.error)
      case 'reply':
        return this.#settle(message.req, message.value)
      case 'admitted':
        return this.#settle(message.req, message.refusal)
      case 'event':
        for (const listener of this.#listeners) listener(message.entry)
        return
      case 'shutdown':
        return this.#onShutdown()
      default:
        return // socket traffic is the session workers' (never sent here)
    }
  }
}
