/**
 * What a command gets to work with: the global options, the process's streams, a connection that
 * is opened on first use (and closed by main.ts), and the choice between JSON and human output.
 */
import type { Readable, Writable } from 'node:stream'
import { configDir, resolveClientId, resolveServers, connectFirst } from '../config.js'
import { listingCachePath } from '../listing-cache.js'
import type { ServerAddress } from '../address.js'
import type { Connection } from '../connection.js'
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
  clientId?: string
  json?: boolean
  /** --wait: seconds to wait for a busy server; false with --no-wait; unset: TANDEM_WAIT or 30. */
  wait?: number | false
}

/** How long a command waits for a busy server unless told otherwise (--wait, TANDEM_WAIT). */
export const DEFAULT_WAIT_SECONDS = 30
/** The longest --wait: a day. */
export const MAX_WAIT_SECONDS = 86_400

export class CliContext {
  readonly globals: GlobalOptions
  readonly io: CliIo
  #connection: Promise<Connection> | undefined
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
   * The connection to the first server that answers, opened once. While the servers are busy it
   * waits and tries again (see connectFirst), saying so on stderr: a script's stdout stays clean.
   */
  connection(): Promise<Connection> {
    this.#connection ??= (async () => {
      const servers = this.servers()
      const waitMs = this.waitSeconds() * 1000
      const conn = await connectFirst(servers, {
        clientId: await this.clientId(),
        waitMs,
        signal: this.#interrupt.signal,
        onWait: (wait) => this.io.stderr.write(`${busyLine(wait)}\n`),
      })
      // Ctrl+C came while the welcome was on its way: the command must not start.
      if (this.#interrupt.signal.aborted) {
        conn.destroy()
        throw this.#interrupt.signal.reason
      }
      return conn
    })()
    return this.#connection
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
    void this.#connection?.then(
      (conn) => conn.destroy(),
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
    const pending = this.#connection
    this.#connection = undefined
    const conn = await pending?.catch(() => undefined)
    await conn?.close()
  }
}
