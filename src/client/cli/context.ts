/**
 * What a command gets to work with: the global options, the process's streams, a connection that
 * is opened on first use (and closed by main.ts), and the choice between JSON and human output.
 */
import type { Readable, Writable } from 'node:stream'
import { configDir, resolveClientId, resolveServers, connectFirst } from '../config.js'
import { listingCachePath } from '../listing-cache.js'
import type { ServerAddress } from '../address.js'
import type { Connection } from '../connection.js'
import { UsageError } from './errors.js'
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
}

export class CliContext {
  readonly globals: GlobalOptions
  readonly io: CliIo
  #connection: Promise<Connection> | undefined

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

  /** The connection to the first server that answers, opened once. */
  connection(): Promise<Connection> {
    this.#connection ??= (async () => {
      const servers = this.servers()
      return connectFirst(servers, { clientId: await this.clientId() })
    })()
    return this.#connection
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
