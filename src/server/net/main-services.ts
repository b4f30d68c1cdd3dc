/**
 * The calls a worker makes that must run in the main thread — per-path locks (with the user-lock
 * refusal), user locks, the change log (records, queries, following), status, published hashes —
 * answered the same way for a session worker's port and for the HTTP worker. Every lock a worker
 * holds is remembered by token and released when the worker's side ends, so a crashed task or
 * thread never leaks one.
 */
import { TandemError, toWireError } from '../../protocol/errors.js'
import type { LogEntry } from '../../protocol/messages.js'
import type { ServerCore } from '../core.js'
import type { FromWorker, ToWorker } from '../workers/messages.js'
import { answer, Tokens } from '../workers/request-reply.js'

type ServiceMessage = Extract<
  FromWorker,
  {
    t:
      | 'lock'
      | 'unlock'
      | 'user-lock'
      | 'log'
      | 'published'
      | 'tree-change'
      | 'wrote'
      | 'query'
      | 'follow'
      | 'request-begin'
      | 'request-done'
      | 'request-abandon'
  }
>

const SERVICE_KINDS: ReadonlySet<string> = new Set([
  'lock',
  'unlock',
  'user-lock',
  'log',
  'published',
  'tree-change',
  'wrote',
  'query',
  'follow',
  'request-begin',
  'request-done',
  'request-abandon',
])

export function isServiceMessage(message: { t: string }): message is ServiceMessage {
  return SERVICE_KINDS.has(message.t)
}

export class MainServices {
  readonly #locks = new Tokens()
  #unfollow: (() => void) | undefined
  #ended = false

  /**
   * `clientOf` says whose request a message is: a session's bridge knows its client; the HTTP
   * worker names the client in each message.
   */
  constructor(
    private readonly core: ServerCore,
    private readonly toWorker: (message: ToWorker) => void,
    private readonly clientOf: (claimed: string) => string,
    /** True once the worker's side can no longer release what it is granted (its task ended). */
    private readonly gone: () => boolean = () => false,
  ) {}

  handle(message: ServiceMessage): void {
    switch (message.t) {
      case 'lock':
        return void this.#lock(message)
      case 'user-lock': {
        const { req, op, name, ttlSeconds, force } = message
        const owner = this.clientOf(message.client)
        return answer(this.toWorker, req, () =>
          this.core.userLock({ op, name, ttlSeconds, force, owner }),
        )
      }
      case 'unlock':
        return this.#locks.release(message.token)
      case 'log':
        return this.core.record(message.entry, message.record)
      case 'published':
        return this.core.sync?.published(message.name, message.sha256, message.identity)
      case 'tree-change':
        return answer(this.toWorker, message.req, () => this.core.sync?.treeChange(message.change))
      case 'wrote':
        return this.core.sync?.wrote(message.states)
      case 'query':
        if (message.what === 'log')
          return answer(this.toWorker, message.req, () => this.core.changeLog.query(message))
        return answer(this.toWorker, message.req, () => this.core.status())
      case 'request-begin':
      case 'request-done':
      case 'request-abandon':
        return this.#request(message)
      case 'follow':
        this.#unfollow ??= this.core.changeLog.subscribe((entry: LogEntry) =>
          this.toWorker({ t: 'event', entry }),
        )
        return
    }
  }

  /** The worker's side ended: every lock it holds is released, following stops. */
  end(): void {
    this.#ended = true
    try {
      // A record the worker sent before it ended is in before its locks go (and its rid is given
      // up). One that cannot be written fails its own request; whatever else might throw here
      // must not keep the locks held.
      this.core.requests?.flushNow()
    } finally {
      this.#locks.releaseAll()
      this.#unfollow?.()
      this.#unfollow = undefined
      this.core.requests?.endOwner(this)
    }
  }

  /** The request window (requests/request-gate.ts): this object owns what its worker begins. */
  #request(
    message: Extract<ServiceMessage, { t: 'request-begin' | 'request-done' | 'request-abandon' }>,
  ): void {
    const gate = this.core.requests
    if (message.t === 'request-abandon') return gate?.abandon(message.rid, this)
    const { req } = message
    const fail = (err: unknown): void =>
      this.toWorker({ t: 'reply-failed', req, error: toWireError(err) })
    if (!gate) return fail(new TandemError('ERR_SHUTTING_DOWN', 'the server is stopping'))
    if (message.t === 'request-begin') {
      if (this.#ended || this.gone()) return
      return void gate.begin(message.tag, this).then((value) => {
        if (this.#ended || this.gone()) gate.abandon(message.tag.rid, this)
        else this.toWorker({ t: 'reply', req, value })
      }, fail)
    }
    // Recorded with the other records of this turn (one commit), replied once committed.
    gate
      .doneSoon(message.tag, message.result, message.names)
      .then((record) => {
        // Told before the write's own notice (the worker sends it once answered): its entry
        // carries the rid.
        if (message.names.length > 0) this.core.sync?.requestDone(record, message.names)
        this.toWorker({ t: 'reply', req, value: null })
      })
      .catch(fail)
  }

  async #lock(message: Extract<ServiceMessage, { t: 'lock' }>): Promise<void> {
    const { req, names, mode, purpose } = message
    try {
      const release = await this.core.locks.acquire(names, mode, this.core.config.lockTimeoutMs)
      if (this.#ended || this.gone()) return release() // the asker ended while it waited
      // Checked holding the write lock: a user lock is taken under it too, so none slips between.
      const refusal =
        mode === 'write' && this.core.userLockRefusal(names, this.clientOf(message.client), purpose)
      if (refusal) {
        release()
        throw refusal
      }
      this.toWorker({ t: 'reply', req, value: this.#locks.add(release) })
    } catch (err) {
      this.toWorker({ t: 'reply-failed', req, error: toWireError(err) })
    }
  }
}
