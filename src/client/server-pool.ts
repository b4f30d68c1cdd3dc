/**
 * Failover: the client's connection to one of several servers (`--server A,B,C`, or the members
 * discovery found), kept across the loss of a server. Work runs through `run(work)`; when the
 * server is lost under it (the connection closed or reset, ERR_SHUTTING_DOWN, no answer in time)
 * the pool connects to the next server that answers, the lost one last, says so once through
 * `onSwitch`, and runs the work again there with the same request id, so that a cluster that
 * already applied it answers the original result instead of applying it twice.
 *
 * The states: not connected → connected to S → (S lost) moving → connected to S' … ; or, when no
 * server answers, failed (every later run fails the same way). Work that fails at the same time
 * on the same lost connection (a batch's pipelined files) moves once, together, and each piece
 * is replayed on the new connection: a batch continues with the files in flight, not from the
 * start. An answer that is an error (ERR_NOT_FOUND, ERR_LOCKED, a lock's ERR_TIMEOUT…) leaves
 * the connection open and is never a reason to move. ERR_MOVED (partial replication) is not a
 * move either: the work runs again at a member that holds the file (holder-links.ts), and the
 * pool stays on its server.
 */
import { isTandemError, TandemError } from '../protocol/client.js'
import { formatAddress, type ServerAddress } from './address.js'
import {
  connectFirst,
  type BusyWait,
  type ConnectFirstOptions,
  type ConnectSettings,
} from './config.js'
import type { Connection } from './connection.js'
import type { Link, RunOptions } from './link.js'
import { HolderLinks } from './holder-links.js'
import { requestIdsFor } from './request-ids.js'
import type { ServerLoad } from '../protocol/client.js'

/** What the pool needs of a connection (a Connection; tests give a stand-in). */
export interface PoolConnection {
  readonly address: string
  readonly isClosed: boolean
  readonly closedByClient: boolean
  readonly load?: ServerLoad | undefined
  destroy(): void
  close(): Promise<void>
}

/** One move to another server, for the line a person sees. */
export interface ServerSwitch {
  from: string
  to: string
  /** Why the old server was left: its error's message. */
  reason: string
}

export interface PoolOptions<C> {
  clientId: string
  connectTimeoutMs?: number
  /** See ConnectOptions.stallTimeoutMs. */
  stallTimeoutMs?: number
  /** How long to wait while servers are busy (see connectFirst). */
  waitMs?: number
  onWait?: (wait: BusyWait) => void
  /** Aborted (Ctrl+C): no move, no wait; the work fails as it is. */
  signal?: AbortSignal
  /** Told at each move to another server. */
  onSwitch?: (move: ServerSwitch) => void
  /**
   * Connect to every server first and keep the one serving the fewest clients (the others are
   * closed at once), trying the rest in that order on failover. For members found by discovery;
   * a list given by hand is tried in its own order.
   */
  leastLoaded?: boolean
  /** How one server is connected to; default connect(). */
  open?: ConnectFirstOptions<C>['open']
}

/** Connection-level failures that mean the server is gone (once the connection is closed). */
const LOST_CODES = new Set(['ERR_CONNECTION_CLOSED', 'ERR_TIMEOUT', 'ERR_UNREACHABLE'])

/**
 * True if `error`, met by work on `conn`, means the server was lost (a reason to move), not an
 * answer: ERR_SHUTTING_DOWN (the server is stopping), or the connection closed under the work by
 * the other side with ERR_CONNECTION_CLOSED, ERR_TIMEOUT or ERR_UNREACHABLE. A connection this
 * side closed (Ctrl+C, a reader that went away) is never a lost server.
 */
export function isServerLost(error: unknown, conn: PoolConnection): boolean {
  if (conn.closedByClient) return false
  if (isTandemError(error, 'ERR_SHUTTING_DOWN')) return true
  return conn.isClosed && error instanceof TandemError && LOST_CODES.has(error.code)
}

/**
 * The order to try after losing `lost`: the servers after it in the list, then those before it,
 * and the lost one last (it may have come back by then).
 */
export function failoverOrder(servers: readonly ServerAddress[], lost: string): ServerAddress[] {
  const at = servers.findIndex((s) => formatAddress(s.host, s.port) === lost)
  if (at === -1) return [...servers]
  return [...servers.slice(at + 1), ...servers.slice(0, at), servers[at]!]
}

export class ServerPool<C extends PoolConnection = Connection> implements Link<C> {
  readonly #options: PoolOptions<C>
  #servers: ServerAddress[]
  #current: Promise<C> | undefined
  #conn: C | undefined
  #closed = false
  /** Connections left for lost: work still failing on one moves too (this side cut it). */
  readonly #lost = new WeakSet<C>()

  /** Connections to the members that hold what this server does not (ERR_MOVED). */
  readonly #holders: HolderLinks<C>

  constructor(servers: readonly ServerAddress[], options: PoolOptions<C>) {
    if (servers.length === 0) throw new TypeError('no server address given')
    this.#servers = [...servers]
    this.#options = options
    this.#holders = new HolderLinks<C>((address) => this.#openOne(address), isServerLost)
  }

  /** Several servers: losing one moves to another. */
  get canFailover(): boolean {
    return this.#servers.length > 1
  }

  /** The connection in use, once there is one (undefined while moving). */
  get current(): C | undefined {
    return this.#conn
  }

  /** The connection in use, opened on first use. */
  connection(): Promise<C> {
    if (this.#closed) {
      return Promise.reject(new TandemError('ERR_CONNECTION_CLOSED', 'the client is closing'))
    }
    this.#current ??= this.#track(
      this.#options.leastLoaded && this.canFailover
        ? this.#openLeastLoaded()
        : this.#open(this.#servers),
    )
    return this.#current
  }

  /** A new request id (for work that sends a mutating request; a replay reuses it). */
  newRid(): string {
    return requestIdsFor(this.#options.clientId).next()
  }

  /**
   * Run `work` on the connection; if the server is lost under it, move to another and run it
   * again there with the same `rid` (at most twice per server in all). `canReplay` says whether
   * a replay is still possible (output already printed: not).
   */
  async run<T>(work: (conn: C, rid: string) => Promise<T>, options: RunOptions = {}): Promise<T> {
    const rid = this.newRid()
    const maxMoves = 2 * this.#servers.length
    for (let moves = 0; ; moves++) {
      const current = this.connection()
      const conn = await current
      try {
        return await work(conn, rid)
      } catch (err) {
        // Held at other members (--replicas): the same work there, with the same rid.
        if (this.#follows(err)) return await this.#holders.run(err, work, rid, options)
        const replay = options.canReplay?.() ?? true
        if (!this.#mayMove(err, conn) || !replay || moves >= maxMoves) throw err
        await this.#moveFrom(current, conn, err as TandemError)
      }
    }
  }

  /** Cut the connection at once (Ctrl+C): pending work fails and does not move. */
  destroy(): void {
    this.#conn?.destroy()
    this.#holders.destroy()
  }

  /** Close the connection after what is in flight; the pool is done. */
  async close(): Promise<void> {
    this.#closed = true
    const pending = this.#current
    this.#current = undefined
    const conn = await pending?.catch(() => undefined)
    await Promise.all([conn?.close(), this.#holders.close()])
  }

  /** An ERR_MOVED naming holders, while the pool still works: followed (holder-links.ts). */
  #follows(err: unknown): err is TandemError {
    if (this.#closed || this.#options.signal?.aborted) return false
    return isTandemError(err, 'ERR_MOVED') && (err.holders?.length ?? 0) > 0
  }

  #mayMove(err: unknown, conn: C): boolean {
    if (!this.canFailover || this.#closed || this.#options.signal?.aborted) return false
    return this.#lost.has(conn) || isServerLost(err, conn)
  }

  /** What each connection is opened with. */
  #settings(): ConnectSettings {
    const { clientId, connectTimeoutMs, stallTimeoutMs } = this.#options
    return {
      clientId,
      ...(connectTimeoutMs !== undefined ? { connectTimeoutMs } : {}),
      ...(stallTimeoutMs !== undefined ? { stallTimeoutMs } : {}),
    }
  }

  /** The first to see `lost` fail starts the move; the others wait for the same one. */
  async #moveFrom(current: Promise<C>, lost: C, error: TandemError): Promise<void> {
    if (this.#current === current) {
      this.#conn = undefined
      this.#lost.add(lost)
      lost.destroy()
      const order = failoverOrder(this.#servers, lost.address)
      this.#current = this.#track(this.#open(order, { from: lost.address, error }))
    }
    await this.#current
  }

  /** Remember the connection once open; a failed attempt stays the answer (no unhandled rejection). */
  #track(opening: Promise<C>): Promise<C> {
    opening.then(
      (conn) => (this.#conn = conn),
      () => {},
    )
    return opening
  }

  async #open(order: readonly ServerAddress[], lost?: { from: string; error: Error }): Promise<C> {
    const { waitMs, onWait, signal, open } = this.#options
    let conn: C
    try {
      conn = await connectFirst<C>(order, {
        ...this.#settings(),
        ...(waitMs !== undefined ? { waitMs } : {}),
        ...(onWait ? { onWait } : {}),
        ...(signal ? { signal } : {}),
        ...(open ? { open } : {}),
      })
    } catch (err) {
      if (!lost || !(err instanceof TandemError) || err.code !== 'ERR_UNREACHABLE') throw err
      const message = `lost the server at ${lost.from} (${lost.error.message}), and then ${err.message}`
      throw new TandemError('ERR_UNREACHABLE', message, { cause: err })
    }
    if (lost)
      this.#options.onSwitch?.({ from: lost.from, to: conn.address, reason: lost.error.message })
    return conn
  }

  /** One holder's connection (ERR_MOVED), with the pool's settings and busy waits. */
  #openOne(address: ServerAddress): Promise<C> {
    const { waitMs, onWait, signal, open } = this.#options
    return connectFirst<C>([address], {
      ...this.#settings(),
      ...(waitMs !== undefined ? { waitMs } : {}),
      ...(onWait ? { onWait } : {}),
      ...(signal ? { signal } : {}),
      ...(open ? { open } : {}),
    })
  }

  /**
   * Connect to every server at once, keep the one serving the fewest clients (one that does not
   * say comes after those that do; ties keep the list's order) and close the others. The list is
   * reordered the same way, for failover. None answers: as connectFirst would fail. Once one
   * has answered, the others have LOAD_GRACE_MS more: a member that accepts and never welcomes
   * must not hold every command up for the whole connect timeout (a late one is closed).
   */
  async #openLeastLoaded(): Promise<C> {
    const { open, signal } = this.#options
    signal?.throwIfAborted()
    const settings = this.#settings()
    const tries = this.#servers.map((address) =>
      open ? open(address, settings) : connectFirst<C>([address], settings),
    )
    const attempts = await settleWithGrace(tries, LOAD_GRACE_MS)
    const ranked = attempts
      .map((attempt, i) => ({ attempt, address: this.#servers[i]!, i }))
      .sort((a, b) => rank(a.attempt) - rank(b.attempt) || a.i - b.i)
    this.#servers = ranked.map((r) => r.address)
    const best = ranked[0]!.attempt
    for (const { attempt } of ranked.slice(1))
      if (attempt.status === 'fulfilled') void attempt.value.close().catch(() => {})
    if (best.status === 'fulfilled') return best.value
    // None answered (or all were busy): the usual connect, with its waiting and its message.
    return this.#open(this.#servers)
  }
}

/** How long the other servers may take to welcome once one has (least-loaded choice). */
const LOAD_GRACE_MS = 500

/**
 * Each promise's outcome, waiting for all of them but no longer than `graceMs` after the first
 * success; one still pending then counts as failed, and its connection is closed when it comes.
 */
function settleWithGrace<C extends PoolConnection>(
  tries: readonly Promise<C>[],
  graceMs: number,
): Promise<PromiseSettledResult<C>[]> {
  const late = (): PromiseRejectedResult => ({
    status: 'rejected',
    reason: new TandemError('ERR_TIMEOUT', 'no welcome in time'),
  })
  return new Promise((resolve) => {
    const results: (PromiseSettledResult<C> | undefined)[] = tries.map(() => undefined)
    let left = tries.length
    let timer: NodeJS.Timeout | undefined
    let done = false
    const finish = (): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      resolve(results.map((r) => r ?? late()))
    }
    tries.forEach((attempt, i) => {
      attempt.then(
        (value) => {
          if (done) return void value.close().catch(() => {})
          results[i] = { status: 'fulfilled', value }
          timer ??= setTimeout(finish, graceMs)
          if (--left === 0) finish()
        },
        (reason: unknown) => {
          if (done) return
          results[i] = { status: 'rejected', reason }
          if (--left === 0) finish()
        },
      )
    })
    if (left === 0) finish()
  })
}

/** Fewer clients first; a server that does not tell its load after those that do; failures last. */
function rank<C extends PoolConnection>(attempt: PromiseSettledResult<C>): number {
  if (attempt.status === 'rejected') return Number.MAX_SAFE_INTEGER
  return attempt.value.load?.clients ?? Number.MAX_SAFE_INTEGER - 1
}
