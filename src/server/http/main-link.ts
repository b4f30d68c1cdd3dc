/**
 * The HTTP worker's line to the main thread: numbered calls with their answers, posts (batched
 * per microtask), and the change-log events the main thread forwards (fanned out here to every
 * event stream).
 */
import type { MessagePort } from 'node:worker_threads'
import type { LogEntry } from '../../protocol/index.js'
import type { MainCaller } from '../session/link-adapters.js'
import { Outbox, Requests } from '../workers/request-reply.js'
import type { FromHttpWorker, ToHttpWorker } from './messages.js'

export class MainLink implements MainCaller {
  readonly #requests = new Requests()
  readonly #outbox: Outbox<FromHttpWorker>
  readonly #listeners = new Set<(entry: LogEntry) => void>()
  #following = false
  #onShutdown: () => void = () => undefined

  /** `port`: the worker's parentPort (or one end of a channel, when HTTP runs in the main thread). */
  constructor(port: MessagePort) {
    this.#outbox = new Outbox((message, transfer) => port.postMessage(message, transfer))
    port.on('message', (message: ToHttpWorker) => this.#onMessage(message))
  }

  onShutdown(fn: () => void): void {
    this.#onShutdown = fn
  }

  post(message: FromHttpWorker): void {
    this.#outbox.post(message)
  }

  /** Send what is queued now (before the port closes). */
  flush(): void {
    this.#outbox.flush()
  }

  call<T>(make: (req: number) => FromHttpWorker): Promise<T> {
    return this.#requests.call<T>((req) => this.post(make(req)))
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

  #onMessage(message: ToHttpWorker): void {
    switch (message.t) {
      case 'reply':
      case 'reply-failed':
        return this.#requests.settle(message)
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
