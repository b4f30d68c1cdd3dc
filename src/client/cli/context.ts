/**
 * What a command gets to work with: the global options, the process's streams, a connection that
 * is opened on first use (and closed by main.ts), and the choice between JSON and human output.
 */
import type { Readable, Writable } from 'node:stream'
import { configDir, resolveClientId, resolveServers, resolveCluster } from '../config.js'
import { listingCachePath } from '../listing-cache.js'
import { displayText, TandemError } from '../../protocol/client.js'
import type { ServerAddress } from '../address.js'
import type { Connection } from '../connection.js'
import { discoverServers } from '../discovery.js'
import type { RunOptions } from '../link.js'
import { ServerPool } from '../server-pool.js'
import { checkDuration } from '../duration.js'
import { UsageError } from './errors.js'
import { interruptedError } from './interrupt.js'
import { busyLine } from './render/busy.js'
import { createProgress, type ProgressDisplay } from './render/progress.js'
import { withSpinner } from './render/spinner.js'

/** The process's streams and environment, passed in so that main.ts stays testable. */
export interface CliIo {
  stdin: Readable & { isTTY?: boolean }
  stdout: Writable & { isTTY?: boolean }
  stderr: Writable & { isTTY?: boolean }
  env: Record<string, string | undefined>
}

export interface GlobalOptions {
  server?: string
  /** --cluster NAME: find the servers by discovery (env TANDEM_CLUSTER). */
  cluster?: string
  clientId?: string
  json?: boolean
  /** --wait: seconds to wait for a busy server; false with --no-wait; unset: TANDEM_WAIT or 30. */
  wait?: number | false
}

/** How long a command waits for a busy server unless told otherwise (--wait, TANDEM_WAIT). */
export const DEFAULT_WAIT_SECONDS = 30
/** The longest --wait: a day. */
export const MAX_WAIT_SECONDS = 86_400
/** How long `--cluster` listens for members before choosing one. */
export const DISCOVERY_TIMEOUT_MS = 3_000

export class CliContext {
  readonly globals: GlobalOptions
  readonly io: CliIo
  #pool: Promise<ServerPool> | undefined
  readonly #interrupt = new AbortController()

  constructor(globals: GlobalOptions, io: CliIo) {
    this.globals = globals
    this.io = io
  }

  get json(): boolean {
    return this.globals.json === true
  }

  /** True when a person watches: progress bars and hints are drawn only then. */
  get interactive(): boolean {
    return this.io.stdout.isTTY === true && this.io.stderr.isTTY === true
  }

  servers(): ServerAddress[] {
    try {
      return resolveServers(this.globals.server, this.io.env)
    } catch (err) {
      throw new UsageError(`--server: ${(err as Error).message}`)
    }
  }

  /**
   * Where to connect: --server, else --cluster (discovery), else TANDEM_SERVER, else
   * TANDEM_CLUSTER, else the default address. `discovered` says the list came from discovery
   * (then the least-loaded member is chosen).
   */
  async serverList(): Promise<{ servers: ServerAddress[]; discovered: boolean }> {
    let cluster: string | undefined
    try {
      cluster = resolveCluster(this.globals, this.io.env)
    } catch (err) {
      throw new UsageError(`--cluster: ${(err as Error).message}`)
    }
    if (cluster === undefined) return { servers: this.servers(), discovered: false }
    const servers = await discoverServers(cluster, { timeoutMs: DISCOVERY_TIMEOUT_MS })
    if (servers.length === 0) {
      const seconds = DISCOVERY_TIMEOUT_MS / 1000
      throw new TandemError(
        'ERR_UNREACHABLE',
        `no server of cluster '${cluster}' answered on the local network within ${seconds} s (--server HOST:PORT names one directly)`,
      )
    }
    return { servers, discovered: true }
  }

  async clientId(): Promise<string> {
    try {
      return await resolveClientId(this.globals.clientId, this.io.env)
    } catch (err) {
      throw new UsageError(`--client-id: ${(err as Error).message}`)
    }
  }

  /** Seconds to wait for a busy server: --wait / --no-wait, else TANDEM_WAIT, else 30. */
  waitSeconds(): number {
    if (this.globals.wait !== undefined) return this.globals.wait === false ? 0 : this.globals.wait
    const fromEnv = this.io.env.TANDEM_WAIT
    if (fromEnv === undefined || fromEnv.trim() === '') return DEFAULT_WAIT_SECONDS
    const checked = checkDuration(fromEnv, { min: 0, max: MAX_WAIT_SECONDS })
    if ('problem' in checked) throw new UsageError(`TANDEM_WAIT '${fromEnv}': ${checked.problem}`)
    return checked.seconds
  }

  /**
   * How long a server may move no byte while an answer is due before it is taken for lost
   * (TANDEM_STALL_TIMEOUT, a duration; default 2 min; 0: never), in ms.
   */
  stallTimeoutMs(): number | undefined {
    const fromEnv = this.io.env.TANDEM_STALL_TIMEOUT
    if (fromEnv === undefined || fromEnv.trim() === '') return undefined
    const checked = checkDuration(fromEnv, { min: 0, max: MAX_WAIT_SECONDS })
    if ('problem' in checked)
      throw new UsageError(`TANDEM_STALL_TIMEOUT '${fromEnv}': ${checked.problem}`)
    return checked.seconds * 1000
  }

  /**
   * The servers, as a failover pool (server-pool.ts), made once. While the servers are busy it
   * waits and tries again (see connectFirst), saying so on stderr; a move to another server is
   * one line on stderr too: a script's stdout stays clean.
   */
  pool(): Promise<ServerPool> {
    this.#pool ??= (async () => {
      const { servers, discovered } = await this.serverList()
      return new ServerPool(servers, {
        clientId: await this.clientId(),
        waitMs: this.waitSeconds() * 1000,
        ...definedStall(this.stallTimeoutMs()),
        signal: this.#interrupt.signal,
        leastLoaded: discovered,
        onWait: (wait) => this.io.stderr.write(`${busyLine(wait)}\n`),
        // On a terminal a progress bar may be on the line: clear it first (it redraws below).
        onSwitch: (move) =>
          this.io.stderr.write(`${this.interactive ? '\r\x1b[2K' : ''}${switchLine(move)}\n`),
      })
    })()
    return this.#pool
  }

  /**
   * The connection in use (opened on first use). Work that should survive the loss of its
   * server goes through run() instead.
   */
  async connection(): Promise<Connection> {
    const conn = await (await this.pool()).connection()
    // Ctrl+C came while the welcome was on its way: the command must not start.
    if (this.#interrupt.signal.aborted) {
      conn.destroy()
      throw this.#interrupt.signal.reason
    }
    return conn
  }

  /** Run `work` on the connection; a lost server moves it to another (ServerPool.run). */
  async run<T>(
    work: (conn: Connection, rid: string) => Promise<T>,
    options?: RunOptions,
  ): Promise<T> {
    await this.connection()
    return (await this.pool()).run(work, options)
  }

  /** Aborted by Ctrl+C (see interrupt()). */
  get signal(): AbortSignal {
    return this.#interrupt.signal
  }

  /**
   * Ctrl+C: stop what the command waits for. The connection is cut, so that a transfer fails the
   * normal way (a download's temp file is removed) and a follow ends; a wait for a busy server
   * ends too.
   */
  interrupt(): void {
    this.#interrupt.abort(interruptedError())
    void this.#pool?.then(
      (pool) => pool.destroy(),
      () => {},
    )
  }

  /** Print a result: `json` as JSON with --json, else the human text. */
  print(json: unknown, human: string): void {
    this.io.stdout.write(this.json ? `${JSON.stringify(json, null, 2)}\n` : `${human}\n`)
  }

  /** A line for a person on stderr (hints), never mixed into results. */
  note(text: string): void {
    if (this.interactive && !this.json) this.io.stderr.write(`${text}\n`)
  }

  progress(label: string): ProgressDisplay {
    return createProgress(this.io.stderr, this.interactive, label)
  }

  /** Wait for `work`, with a spinner on stderr when a person watches. */
  waitWith<T>(text: string, work: Promise<T>): Promise<T> {
    return withSpinner(this.io.stderr, this.interactive && !this.json, text, work)
  }

  /** Where `ls` remembers the names it printed (see listing-cache.ts). */
  get listingCacheFile(): string {
    return listingCachePath(configDir(this.io.env))
  }

  /** Close the connection if one was opened, after what is in flight. */
  async dispose(): Promise<void> {
    const pending = this.#pool
    this.#pool = undefined
    const pool = await pending?.catch(() => undefined)
    await pool?.close()
  }
}

function definedStall(ms: number | undefined): { stallTimeoutMs?: number } {
  return ms === undefined ? {} : { stallTimeoutMs: ms }
}

/** The one line a person sees when the client moved to another server. */
export function switchLine(move: { from: string; to: string; reason: string }): string {
  // The reason may be the server's own message: escaped, so that it cannot drive the terminal.
  return `lost the server at ${move.from} (${displayText(move.reason)}); continuing on ${move.to}`
}
