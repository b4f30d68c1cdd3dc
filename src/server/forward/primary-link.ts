/**
 * Roles, the forwarding side (src/server/forward/ owns it): a secondary's link to its primary for
 * one client. It opens a connection in that client's name on the client's first write (not
 * before: a reader costs the primary nothing), keeps it while writes come, closes it after
 * IDLE_CLOSE_MS without one (under the primary's own idle timeout, so the primary never closes
 * it under a request), and opens a new one after a failure. Built by the session worker (one per
 * session) and the HTTP worker (one per HTTP client id); used by the operations (ops/forwarding.ts).
 */
import type { WriteResult } from '../../protocol/index.js'
import type { BodyRequest } from '../ops/body.js'
import type { ForwardedBody, ForwardedRequest, Forwarder } from '../ops/forwarding.js'
import { PrimaryConnection } from './primary-connection.js'
import { forwardedSoftware } from './forward-chain.js'

/** A connection with nothing to do for this long is closed (the primary's default idle is 2 min). */
const IDLE_CLOSE_MS = 30_000
/** Connect + hello + welcome (the primary's own hello timeout is 5 s). */
const CONNECT_TIMEOUT_MS = 5_000

export interface PrimaryLinkOptions {
  /** The primary's control port, HOST:PORT. */
  primary: string
  clientId: string
  /** This server's name, said in the hello's `software`. */
  serverName: string
  version: string
  /** The secondaries the client's writes already came through (their hello said so), last first. */
  via?: readonly string[]
}

export class PrimaryLink implements Forwarder {
  readonly primary: string
  readonly #options: PrimaryLinkOptions
  #connection: Promise<PrimaryConnection> | undefined
  #lastUse = 0
  #idleTimer: NodeJS.Timeout | undefined

  constructor(options: PrimaryLinkOptions) {
    this.primary = options.primary
    this.#options = options
  }

  async call<T>(request: ForwardedRequest): Promise<T> {
    const conn = await this.#connect()
    try {
      return (await conn.call(request)) as T
    } finally {
      this.#lastUse = Date.now()
    }
  }

  body(request: Omit<BodyRequest, 'id'>): ForwardedBody {
    const writer = this.#connect().then((conn) => conn.startBody(request))
    writer.catch(() => undefined) // seen by write and finish
    return {
      write: async (pieces) => {
        await (await writer).write(pieces)
        this.#lastUse = Date.now()
      },
      finish: async (sha256) => {
        try {
          return (await (await writer).finish(sha256)) as WriteResult
        } finally {
          this.#lastUse = Date.now()
        }
      },
      abort: () =>
        void writer.then(
          (w) => w.abort(),
          () => undefined,
        ),
    }
  }

  /** Close the connection (the client is gone); answers still awaited fail. */
  close(): void {
    const connection = this.#connection
    this.#connection = undefined
    this.#stopIdleTimer()
    void connection?.then(
      (conn) => conn.destroy(),
      () => undefined,
    )
  }

  #connect(): Promise<PrimaryConnection> {
    this.#lastUse = Date.now()
    const current = this.#connection
    if (current) return current
    const { primary, clientId, serverName, version } = this.#options
    const opening = PrimaryConnection.open(
      {
        address: primary,
        clientId,
        software: forwardedSoftware(version, [serverName, ...(this.#options.via ?? [])]),
        timeoutMs: CONNECT_TIMEOUT_MS,
      },
      () => {
        // Closed (by either side, or failed): the next write opens a new one.
        if (this.#connection === opening) {
          this.#connection = undefined
          this.#stopIdleTimer()
        }
      },
    )
    this.#connection = opening
    opening.then(
      () => this.#startIdleTimer(),
      () => {
        if (this.#connection === opening) this.#connection = undefined
      },
    )
    return opening
  }

  #startIdleTimer(): void {
    this.#stopIdleTimer()
    this.#idleTimer = setInterval(() => {
      if (Date.now() - this.#lastUse < IDLE_CLOSE_MS) return
      void this.#connection?.then((conn) => {
        if (!conn.busy && Date.now() - this.#lastUse >= IDLE_CLOSE_MS) this.close()
      })
    }, IDLE_CLOSE_MS / 4)
    this.#idleTimer.unref()
  }

  #stopIdleTimer(): void {
    if (this.#idleTimer) clearInterval(this.#idleTimer)
    this.#idleTimer = undefined
  }
}
