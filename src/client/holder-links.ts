/**
 * Following ERR_MOVED (partial replication, `--replicas`): the server does not hold the file and
 * names the members that do. The same unit of work — with the same request id — runs again at
 * the first holder that answers, invisibly: nothing is said unless every holder fails, and then
 * the one error says why for each. A connection to a holder is opened once and kept for the
 * command's later work (a folder's files held at the same member go over one connection).
 */
import { isTandemError, TandemError, type Holder } from '../protocol/client.js'
import { parseAddress, type ServerAddress } from './address.js'
import type { RunOptions } from './link.js'

/** What a holder connection must offer (a Connection; tests give a stand-in). */
export interface HolderConnection {
  readonly isClosed: boolean
  destroy(): void
  close(): Promise<void>
}

export class HolderLinks<C extends HolderConnection> {
  readonly #open: (address: ServerAddress) => Promise<C>
  readonly #isLost: (error: unknown, conn: C) => boolean
  readonly #links = new Map<string, Promise<C>>()
  #closed = false

  /**
   * `open`: how one holder is connected to (the pool's settings and busy waits); `isLost`: does
   * an error met on a connection mean its server was lost (server-pool.ts isServerLost)?
   */
  constructor(
    open: (address: ServerAddress) => Promise<C>,
    isLost: (error: unknown, conn: C) => boolean,
  ) {
    this.#open = open
    this.#isLost = isLost
  }

  /**
   * Run `work` (with `rid`) at the holders `moved` names, in its order, until one answers. An
   * answer that is an error (ERR_NOT_FOUND, ERR_LOCKED…) is the answer; a holder that cannot be
   * reached, is lost under the work, or says ERR_MOVED itself (its view was stale) passes to the
   * next. None answers: ERR_UNREACHABLE naming each.
   */
  async run<T>(
    moved: TandemError,
    work: (conn: C, rid: string) => Promise<T>,
    rid: string,
    options: RunOptions = {},
  ): Promise<T> {
    const failures: string[] = []
    for (const holder of moved.holders ?? []) {
      if (this.#closed) break
      let conn: C
      try {
        conn = await this.#link(holder)
      } catch (err) {
        failures.push(`${describe(holder)}: ${(err as Error).message}`)
        continue
      }
      try {
        return await work(conn, rid)
      } catch (err) {
        const lost = this.#isLost(err, conn)
        if (lost) this.#forget(holder.address, conn)
        if (!lost && !isTandemError(err, 'ERR_MOVED')) throw err
        if (options.canReplay?.() === false) throw err
        failures.push(`${describe(holder)}: ${(err as Error).message}`)
      }
    }
    const why = failures.length === 0 ? 'none is known' : failures.join('; ')
    throw new TandemError(
      'ERR_UNREACHABLE',
      `${moved.message}, and no member holding it answered (${why})`,
      { cause: moved },
    )
  }

  /** Close every holder connection after what is in flight. */
  async close(): Promise<void> {
    this.#closed = true
    const links = [...this.#links.values()]
    this.#links.clear()
    await Promise.all(
      links.map((link) =>
        link.then(
          (conn) => conn.close().catch(() => {}),
          () => {},
        ),
      ),
    )
  }

  /** Cut every holder connection at once (Ctrl+C). */
  destroy(): void {
    for (const link of this.#links.values())
      link.then(
        (conn) => conn.destroy(),
        () => {},
      )
  }

  #link(holder: Holder): Promise<C> {
    let link = this.#links.get(holder.address)
    if (!link) {
      let address: ServerAddress
      try {
        address = parseAddress(holder.address)
      } catch (err) {
        return Promise.reject(err as Error)
      }
      link = this.#open(address)
      // A failed attempt is not kept: the next work tries again.
      link.catch(() => this.#links.delete(holder.address))
      this.#links.set(holder.address, link)
    }
    return link.then((conn) => {
      if (!conn.isClosed) return conn
      this.#forget(holder.address, conn)
      return this.#link(holder)
    })
  }

  #forget(address: string, conn: C): void {
    conn.destroy()
    this.#links.delete(address)
  }
}

function describe(holder: Holder): string {
  return `${holder.name} at ${holder.address}`
}
