/**
 * Where the client connects and who it says it is. The server address comes from --server, else
 * TANDEM_SERVER, else 127.0.0.1:8001; the client id from --client-id, else TANDEM_CLIENT_ID, else
 * one generated once and kept in the user's config directory, so that the change log and user
 * locks recognise the same person across runs.
 */
import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { formatAddress, isUnreachable, parseAddressList, type ServerAddress } from './address.js'
import { connect, type ConnectOptions, type Connection } from './connection.js'
import { isTandemError, TandemError } from '../protocol/client.js'

export type { ServerAddress } from './address.js'

/** What every connection of a client is opened with (ConnectOptions but the address). */
export type ConnectSettings = Omit<ConnectOptions, 'host' | 'port'>

export const DEFAULT_SERVER = '127.0.0.1:8001'
const MAX_CLIENT_ID_LENGTH = 128 // the hello schema's limit
// eslint-disable-next-line no-control-regex
const BAD_ID_CHARS = /[\u0000-\u0020\u007f]/

type Env = Record<string, string | undefined>

/** The address list to try, in order. Throws a TypeError for a malformed one. */
export function resolveServers(flag: string | undefined, env: Env = process.env): ServerAddress[] {
  return parseAddressList(flag ?? nonEmpty(env.TANDEM_SERVER) ?? DEFAULT_SERVER)
}

/**
 * The cluster to find by discovery, if the servers are to be found that way: --cluster, unless
 * --server names them; else TANDEM_CLUSTER, unless TANDEM_SERVER does. Undefined: no discovery.
 */
export function resolveCluster(
  flags: { server?: string; cluster?: string },
  env: Env = process.env,
): string | undefined {
  if (flags.server !== undefined) return undefined
  if (flags.cluster !== undefined) return checkClusterName(flags.cluster)
  if (nonEmpty(env.TANDEM_SERVER) !== undefined) return undefined
  const fromEnv = nonEmpty(env.TANDEM_CLUSTER)
  return fromEnv === undefined ? undefined : checkClusterName(fromEnv)
}

function checkClusterName(name: string): string {
  const trimmed = name.trim()
  if (trimmed === '' || trimmed.length > 63) {
    throw new TypeError(`'${name}' is not a cluster name (1 to 63 characters)`)
  }
  return trimmed
}

/** The client id: flag, environment, or the stored one (made on first use). */
export async function resolveClientId(
  flag: string | undefined,
  env: Env = process.env,
): Promise<string> {
  const given = flag ?? nonEmpty(env.TANDEM_CLIENT_ID)
  if (given !== undefined) return checkClientId(given)
  return storedClientId(clientIdPath(env))
}

/** The client's own directory: $XDG_CONFIG_HOME/tandem or ~/.config/tandem. */
export function configDir(env: Env = process.env): string {
  const base = nonEmpty(env.XDG_CONFIG_HOME) ?? path.join(os.homedir(), '.config')
  return path.join(base, 'tandem')
}

/** Where the generated client id lives, in configDir(). */
export function clientIdPath(env: Env = process.env): string {
  return path.join(configDir(env), 'client-id')
}

export function checkClientId(id: string): string {
  if (id.length === 0 || id.length > MAX_CLIENT_ID_LENGTH || BAD_ID_CHARS.test(id)) {
    throw new TypeError(
      `'${id}' is not a client id (1 to ${MAX_CLIENT_ID_LENGTH} characters, no spaces or control characters)`,
    )
  }
  return id
}

/** Read the stored id, or make and store one. Storing is best effort: a read-only home still works. */
async function storedClientId(file: string): Promise<string> {
  const existing = await readId(file)
  if (existing) return existing
  const id = generateClientId()
  try {
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 })
    // 'wx': if another tandem process stored one first, use that one.
    await fs.writeFile(file, `${id}\n`, { flag: 'wx', mode: 0o600 })
    return id
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return (await readId(file)) ?? id
    return id
  }
}

async function readId(file: string): Promise<string | undefined> {
  try {
    const text = (await fs.readFile(file, 'utf8')).trim()
    return checkClientId(text)
  } catch {
    return undefined
  }
}

/** Readable in the change log: the host name plus 8 random hex digits. */
export function generateClientId(): string {
  const host =
    os
      .hostname()
      .replace(/[^A-Za-z0-9.-]/g, '')
      .slice(0, 40) || 'client'
  return `${host}-${randomBytes(4).toString('hex')}`
}

export interface ConnectFirstOptions<C = Connection> {
  clientId: string
  /** How one server is connected to (tests give a stand-in); default: connect(). */
  open?: (address: ServerAddress, options: ConnectSettings) => Promise<C>
  connectTimeoutMs?: number
  /** See ConnectOptions.stallTimeoutMs. */
  stallTimeoutMs?: number
  /**
   * How long to keep trying while the servers are busy (ERR_BUSY), in ms. 0 (the default): fail
   * at once with the busy error.
   */
  waitMs?: number
  /** Told before each wait, so that the person learns why nothing happens yet. */
  onWait?: (wait: BusyWait) => void
  /** Ends a wait (and the attempts) early, e.g. on Ctrl+C: the promise rejects with its reason. */
  signal?: AbortSignal
}

/** One wait for a busy server (see ConnectFirstOptions.onWait). */
export interface BusyWait {
  /** The busy server's address. */
  address: string
  /** Its ERR_BUSY message. */
  message: string
  /** How long this wait lasts, in ms (the server's retry hint, bounded by what is left). */
  delayMs: number
  /** What is left of the whole wait after this one, in ms. */
  leftMs: number
}

/** Between tries when a busy server gives no hint of its own. */
const DEFAULT_RETRY_MS = 1_000

/**
 * Connect to the first server of the list that answers. A server that refuses the connection,
 * cannot be reached, times out or is busy makes it try the next; any other error stops at once.
 * When every server is unreachable, ERR_UNREACHABLE names each with its reason (one server: its
 * own error). When one was busy, the list is tried
 * again after its retry hint, for up to `waitMs` in all; once that is used up, its ERR_BUSY error
 * is thrown, saying how long it waited.
 */
export async function connectFirst<C extends { destroy(): void } = Connection>(
  servers: readonly ServerAddress[],
  options: ConnectFirstOptions<C>,
): Promise<C> {
  const { waitMs = 0, onWait, signal, open, ...connectOptions } = options
  const opener = open ?? ((address, o) => connect({ ...address, ...o }) as unknown as Promise<C>)
  const until = Date.now() + waitMs
  for (;;) {
    signal?.throwIfAborted()
    const outcome = await tryEach(servers, connectOptions, opener)
    if ('connection' in outcome) {
      // Interrupted while the welcome was on its way: the command must not start after all.
      if (signal?.aborted) {
        outcome.connection.destroy()
        signal.throwIfAborted()
      }
      return outcome.connection
    }
    const { busy } = outcome
    if (!busy) throw outcome.lastError
    const leftMs = until - Date.now()
    if (leftMs <= 0) throw waitMs > 0 ? waitedFor(busy.error, waitMs) : busy.error
    const delayMs = Math.min(Math.max(busy.error.retryAfterMs ?? DEFAULT_RETRY_MS, 1), leftMs)
    onWait?.({
      address: busy.address,
      message: busy.error.message,
      delayMs,
      leftMs: leftMs - delayMs,
    })
    await sleep(delayMs, signal)
  }
}

type Attempt<C> =
  | { connection: C }
  | { busy: { address: string; error: TandemError } | undefined; lastError: unknown }

/** One pass over the list: the first connection, or how it failed (the first busy server). */
async function tryEach<C>(
  servers: readonly ServerAddress[],
  options: ConnectSettings,
  open: NonNullable<ConnectFirstOptions<C>['open']>,
): Promise<Attempt<C>> {
  let lastError: unknown = new TypeError('no server address given')
  let busy: { address: string; error: TandemError } | undefined
  const failures: string[] = []
  for (const { host, port } of servers) {
    try {
      return { connection: await open({ host, port }, options) }
    } catch (err) {
      if (isTandemError(err, 'ERR_BUSY'))
        busy ??= { address: formatAddress(host, port), error: err }
      else if (!isUnreachable(err)) throw err
      lastError = err
      failures.push(`${formatAddress(host, port)} (${reasonOf(err as TandemError)})`)
    }
  }
  if (failures.length > 1 && !busy) lastError = noneAnswered(failures, lastError)
  return { busy, lastError }
}

/** Every server of a list was tried and none answered. */
function noneAnswered(failures: readonly string[], last: unknown): TandemError {
  const message = `cannot reach any of the ${failures.length} servers: ${failures.join(', ')}`
  return new TandemError('ERR_UNREACHABLE', message, { cause: last })
}

/** "connection refused" out of "cannot reach the server at HOST:PORT: connection refused". */
function reasonOf(error: TandemError): string {
  const match = /^cannot reach the server at .*?: (.*)$/.exec(error.message)
  return match?.[1] ?? error.message
}

function waitedFor(error: TandemError, waitMs: number): TandemError {
  const seconds = Math.round(waitMs / 100) / 10
  return new TandemError(
    'ERR_BUSY',
    `${error.message} (still busy after waiting ${seconds} s; --wait SECONDS waits longer)`,
    { retryAfterMs: error.retryAfterMs, cause: error },
  )
}

/** Resolve after `ms`, or reject with the signal's reason when it aborts first. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value
}
