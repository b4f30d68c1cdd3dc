/**
 * Main thread ⇄ worker traffic, written once: numbered requests with a pending map (the caller's
 * side), answers as `reply` / `reply-failed` with the error as a WireError (the answerer's side),
 * tokens for what one side holds for the other (a path lock's release), and batching (everything
 * one side says in one microtask, or in one turn of the event loop, leaves as one message). Used by the
 * session bridge ⇄ session worker (PortLink), HttpHost ⇄ the HTTP worker (MainLink) and
 * SyncHost ⇄ the sync worker, in both directions.
 */
// (errors.js, not the index: the HTTP worker loads this module before its app, without zod)
import { TandemError, toWireError, type WireError } from '../../protocol/errors.js'

/** The answer to a numbered request. */
export type Reply =
  { t: 'reply'; req: number; value: unknown } | { t: 'reply-failed'; req: number; error: WireError }

/** Several messages, in order, in one postMessage. */
export interface Batch<M> {
  t: 'batch'
  messages: M[]
}

/** The messages of `message`, a batch or one. */
export function unbatch<M extends { t: string }>(message: M | Batch<M>): M[] {
  return message.t === 'batch' ? (message as Batch<M>).messages : [message as M]
}

interface Pending {
  resolve(value: unknown): void
  reject(err: Error): void
}

/** The caller's side: request ids and what waits for each answer. */
export class Requests {
  #next = 1
  readonly #pending = new Map<number, Pending>()

  /** Send a request (built around its id by `send`); resolves with the answer's value. */
  call<T>(send: (req: number) => void): Promise<T> {
    const req = this.#next++
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(req, { resolve: resolve as (value: unknown) => void, reject })
      send(req)
    })
  }

  /** An answer came (an unknown or already settled id is ignored). */
  settle(reply: Reply): void {
    const pending = this.#pending.get(reply.req)
    if (!pending) return
    this.#pending.delete(reply.req)
    if (reply.t === 'reply') pending.resolve(reply.value)
    else pending.reject(TandemError.fromWire(reply.error))
  }

  /** Forget a request (timed out): a late answer is ignored. */
  forget(req: number): void {
    this.#pending.delete(req)
  }

  /** The other side is gone: every request still waiting fails with `error`. */
  failAll(error: WireError): void {
    const pending = [...this.#pending.values()]
    this.#pending.clear()
    for (const p of pending) p.reject(TandemError.fromWire(error))
  }
}

/** The answerer's side: `work`'s value as a reply, or its error as a WireError. */
export function answer(
  post: (reply: Reply) => void,
  req: number,
  work: () => unknown | Promise<unknown>,
): void {
  let result: Promise<unknown>
  try {
    result = Promise.resolve(work())
  } catch (err) {
    result = Promise.reject(err)
  }
  result.then(
    (value) => post({ t: 'reply', req, value }),
    (err: unknown) => post({ t: 'reply-failed', req, error: toWireError(err) }),
  )
}

/**
 * What one side holds on behalf of the other, by token (the main thread's path locks granted to
 * a worker): released by token, or all at once when the other side ends.
 */
export class Tokens {
  #next = 1
  readonly #held = new Map<number, () => void>()

  add(release: () => void): number {
    const token = this.#next++
    this.#held.set(token, release)
    return token
  }

  release(token: number): void {
    const release = this.#held.get(token)
    this.#held.delete(token)
    release?.()
  }

  releaseAll(): void {
    const all = [...this.#held.values()]
    this.#held.clear()
    for (const release of all) release()
  }
}

/** When an Outbox sends what was said: at the end of the microtask, or of the loop's turn. */
export type FlushScheduler = (flush: () => void) => void

/** The end of this turn of the event loop (after its I/O callbacks and all their microtasks). */
export const endOfTurn: FlushScheduler = (flush) => void setImmediate(flush)

/**
 * Messages said before the scheduled flush leave as one postMessage (a batch when several), with
 * the buffers to transfer. By default the flush ends the microtask; with `endOfTurn`, the loop's
 * turn, so a pipelined burst (many messages that arrive together, each answered in its own
 * microtask chain) leaves as one message. `last()` lets a sender merge into the message still
 * queued (bytes, acks).
 */
export class Outbox<M extends { t: string }> {
  #queue: M[] = []
  #transfer: ArrayBuffer[] = []
  #scheduled = false
  readonly #flush = (): void => {
    this.#scheduled = false
    this.flush()
  }

  constructor(
    private readonly send: (message: M | Batch<M>, transfer: ArrayBuffer[]) => void,
    private readonly schedule: FlushScheduler = queueMicrotask,
  ) {}

  post(message: M, transfer?: readonly ArrayBuffer[]): void {
    this.#queue.push(message)
    if (transfer) this.#transfer.push(...transfer)
    if (this.#scheduled) return
    this.#scheduled = true
    this.schedule(this.#flush)
  }

  /** The message queued last (not sent yet), to merge into. */
  last(): M | undefined {
    return this.#queue.at(-1)
  }

  /** Buffers to transfer with the next flush (for a message merged through `last()`). */
  transfer(buffers: readonly ArrayBuffer[]): void {
    this.#transfer.push(...buffers)
  }

  /** Send what is queued now (the scheduled flush still comes, and sends what was said since). */
  flush(): void {
    const queue = this.#queue
    const transfer = this.#transfer
    if (queue.length === 0) return
    this.#queue = []
    this.#transfer = []
    this.send(queue.length === 1 ? queue[0]! : { t: 'batch', messages: queue }, transfer)
  }
}
