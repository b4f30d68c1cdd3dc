/**
 * The menu's connection, kept open between actions and opened again when it has ended: the
 * server closes a connection idle for two minutes (ERR_TIMEOUT), and a person may leave the menu
 * open for an hour. No keep-alive pings: an idle menu must not hold one of the server's slots.
 * With several servers it fails over like the command line (server-pool.ts): an action whose
 * server is lost under it runs once more on the next server that answers (the lost one last),
 * with the same request id, and a line says so.
 */
import { connectFirst, resolveServers, type ServerAddress } from '../config.js'
import type { Connection } from '../connection.js'
import { isTandemError, TandemError } from '../../protocol/client.js'
import type { Link, RunOptions as LinkRunOptions } from '../link.js'
import { HolderLinks } from '../holder-links.js'
import { requestIdsFor } from '../request-ids.js'
import { failoverOrder, isServerLost } from '../server-pool.js'
import { busyLine } from '../cli/render/busy.js'
import { waitWith } from './ui.js'

export interface RunOptions extends LinkRunOptions {
  /**
   * The work only reads: if the connection turns out to have closed under it (the idle timeout
   * racing the request), it is run once more on a new connection.
   */
  readOnly?: boolean
}

export class Session implements Link {
  readonly clientId: string
  readonly #servers: ServerAddress[]
  readonly #extras = new Set<Connection>()
  readonly #waitMs: number
  #conn: Connection | undefined
  #opening: Promise<Connection> | undefined
  /** The address of the server lost last: tried last when connecting again. */
  #lost: string | undefined
  /** Connections left for lost: work still failing on one moves too (this side cut it). */
  readonly #lostConns = new WeakSet<Connection>()
  #interrupted = false
  /** Connections to the members that hold what the server does not (ERR_MOVED). */
  #holders = this.#newHolders()
  /** Aborted by interrupt(): ends a wait for a busy server. Renewed by clearInterrupt(). */
  #abort = new AbortController()

  /** `waitSeconds`: how long to wait for a busy server when connecting (--wait; 0: not at all). */
  constructor(server: string, clientId: string, waitSeconds = 30) {
    this.clientId = clientId
    this.#servers = resolveServers(server)
    this.#waitMs = waitSeconds * 1000
  }

  /** The server's name once connected, else undefined. */
  get serverName(): string | undefined {
    return this.#conn?.server.name
  }

  /** Where the menu talks to: the connected address, else the address list as given. */
  get address(): string {
    return this.#conn?.address ?? this.#servers.map((s) => `${s.host}:${s.port}`).join(',')
  }

  /** An open connection: the current one, or a new one if it has ended. */
  async connection(): Promise<Connection> {
    if (this.#conn && !this.#conn.isClosed) return this.#conn
    // One attempt at a time: work failing together waits for the same new connection.
    this.#opening ??= this.#open()
      .then((conn) => (this.#conn = conn))
      .finally(() => (this.#opening = undefined))
    return this.#opening
  }

  /**
   * Run `work` on the connection, with a request id for its mutating request. It runs once more,
   * with the same id: read-only work whose connection closed under it (see RunOptions.readOnly),
   * and any work whose server was lost when there are several servers (failover).
   */
  async run<T>(
    work: (conn: Connection, rid: string) => Promise<T>,
    options: RunOptions = {},
  ): Promise<T> {
    const rid = requestIdsFor(this.clientId).next()
    const conn = await this.connection()
    try {
      return await work(conn, rid)
    } catch (err) {
      // Held at other members (--replicas): the same work there, with the same rid.
      if (!this.#interrupted && isTandemError(err, 'ERR_MOVED') && err.holders?.length)
        return this.#holders.run(err, work, rid, options)
      if (this.#interrupted || !(options.canReplay?.() ?? true)) throw err
      const closed =
        isTandemError(err, 'ERR_CONNECTION_CLOSED') || isTandemError(err, 'ERR_TIMEOUT')
      const readRetry = options.readOnly === true && closed && conn.isClosed
      const failover =
        this.#servers.length > 1 && (this.#lostConns.has(conn) || isServerLost(err, conn))
      if (!readRetry && !failover) throw err
      // A batch's pieces fail together: the first tells, and all go on one new connection.
      const first = failover && !this.#lostConns.has(conn)
      if (failover) {
        this.#lost = conn.address
        this.#lostConns.add(conn)
      }
      conn.destroy()
      const next = await this.connection()
      if (first)
        process.stderr.write(`lost the server at ${conn.address}; continuing on ${next.address}\n`)
      return work(next, rid)
    }
  }

  /**
   * A second connection for work that occupies one until it ends (following the log). The
   * caller closes it; `interrupt()` and `close()` end it too.
   */
  async extraConnection(): Promise<Connection> {
    const conn = await this.#open()
    this.#extras.add(conn)
    conn.onClose(() => this.#extras.delete(conn))
    return conn
  }

  /**
   * Stop what is in flight at once (Ctrl+C during a transfer): every connection is cut, pending
   * requests fail, and the next action connects again.
   */
  interrupt(): void {
    this.#interrupted = true
    this.#abort.abort(new TandemError('ERR_INTERRUPTED', 'interrupted (Ctrl+C)'))
    this.#conn?.destroy()
    for (const extra of this.#extras) extra.destroy()
    // The holders' connections end too; the next ERR_MOVED opens them again.
    const holders = this.#holders
    this.#holders = this.#newHolders()
    holders.destroy()
    void holders.close()
  }

  /** Forget an interrupt once the action it stopped is over. */
  clearInterrupt(): void {
    this.#interrupted = false
    if (this.#abort.signal.aborted) this.#abort = new AbortController()
  }

  async close(): Promise<void> {
    for (const extra of this.#extras) extra.destroy()
    await this.#holders.close()
    const conn = this.#conn
    this.#conn = undefined
    if (conn && !conn.isClosed) await conn.close().catch(() => conn.destroy())
  }

  #newHolders(): HolderLinks<Connection> {
    const open = (address: ServerAddress): Promise<Connection> =>
      connectFirst([address], {
        clientId: this.clientId,
        waitMs: this.#waitMs,
        signal: this.#abort.signal,
      })
    return new HolderLinks<Connection>(open, isServerLost)
  }

  #open(): Promise<Connection> {
    const where = this.#conn?.server.name ? `server ${this.#conn.server.name}` : this.address
    const connecting = (setText: (text: string) => void): Promise<Connection> =>
      connectFirst(this.#lost ? failoverOrder(this.#servers, this.#lost) : this.#servers, {
        clientId: this.clientId,
        waitMs: this.#waitMs,
        signal: this.#abort.signal,
        // On the spinner's line: the menu's screen gets no extra lines while it waits.
        onWait: (wait) => setText(busyLine(wait, 'Ctrl+C to stop')),
      })
    return waitWith(`Connecting to ${where}…`, connecting)
  }
}
