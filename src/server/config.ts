/**
 * Server configuration: every option optional, validated once, filled from one defaults object,
 * frozen. Sources, later winning: defaults < --config FILE (JSON) < command-line flags.
 */
import { readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { CLUSTER_KEY_MIN_BYTES } from '../protocol/handshake.js'

export const DEFAULTS = {
  name: os.hostname().split('.')[0] || 'tandem',
  root: './data',
  host: '127.0.0.1',
  port: 8001,
  syncPort: 5001,
  peers: [] as string[],
  maxClients: 9,
  /** Session worker threads; 0 = one per CPU core (at least 2). Sessions share them. */
  workers: 0,
  idleTimeoutMs: 120_000, // 2 min without a byte moving closes a connection
  helloTimeoutMs: 5_000, // 5 s for a new connection to send its whole hello
  /**
   * Connections from one address (IP) that have not said hello yet; the next gets ERR_BUSY. Above
   * max-clients, so that nine clients and a peer of one host connecting at once all get in.
   */
  maxPreHelloPerAddress: 16,
  /** Connections from all addresses that have not said hello yet (bounds their memory). */
  maxPreHello: 128,
  lockTimeoutMs: 10_000, // 10 s: the longest a request waits for a per-path lock
  peerTimeoutMs: 5_000, // 5 s without a heartbeat from a member: it is down
  shutdownGraceMs: 5_000, // 5 s for requests in progress to finish on SIGINT/SIGTERM
  busyRetryAfterMs: 1_000, // 1 s: the hint sent with ERR_BUSY
  /** HTTP on: its port is the control port + 80 unless given (0 when the control port is 0). */
  http: true,
  /** Open HTTP connections at once (idle keep-alive ones included); more are closed at once. */
  maxHttpConnections: 256,
  /** An HTTP request's headers must have arrived this long after its first byte. */
  httpHeadersTimeoutMs: 10_000,
  /** Request ids remembered per client (the newest), for replays (index/request-window.ts). */
  requestWindow: 1_000,
  /** Request ids older than this are forgotten (24 h). */
  requestWindowAgeMs: 86_400_000,
  /** --cluster: the cluster to announce and browse by multicast DNS; null: no discovery. */
  cluster: null as string | null,
  /** IPv4 address of the interface for multicast; null: the OS's choice. */
  clusterInterface: null as string | null,
  /** The cluster key peers prove to each other (null: none; peers then link as without one). */
  clusterKey: null as string | null,
  /** --replicas: copies of each file kept on live members; null: every member holds every file. */
  replicas: null as number | null,
  /** A member down this long has its files copied anew until K live copies exist (60 s). */
  rereplicateAfterMs: 60_000,
  /** HTTP reads of a file held elsewhere: proxied from a holder (true) or answered 307 (false). */
  proxyReads: false,
} as const

/** The offset of the default HTTP port from the control port (8001 → 8081). */
export const HTTP_PORT_OFFSET = 80

/**
 * The options' checks, written out (not zod: the main thread would load it for this alone, ~6 MiB
 * resident; see ARCHITECTURE.md, "Memory"). Their messages are zod's, which they replaced
 * (test/unit/config-checks.test.ts compares the two).
 */
type Check = (value: unknown) => { path: string; message: string } | undefined

const fail = (message: string, path = ''): { path: string; message: string } => ({ path, message })

/** How zod names a value of the wrong type. */
function received(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'number') return Number.isFinite(value) ? 'number' : String(value) // NaN, Infinity
  if (value instanceof Date) return 'Date'
  return typeof value
}

const wrongType = (expected: string, value: unknown): { path: string; message: string } =>
  fail(`Invalid input: expected ${expected}, received ${received(value)}`)

function int(min: number, max = Infinity): Check {
  return (v) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return wrongType('number', v)
    if (!Number.isInteger(v)) return fail('Invalid input: expected int, received number')
    // (zod's int() is a safe integer)
    if (v < Number.MIN_SAFE_INTEGER)
      return fail(`Too small: expected int to be >=${Number.MIN_SAFE_INTEGER}`)
    if (v > Number.MAX_SAFE_INTEGER)
      return fail(`Too big: expected int to be <=${Number.MAX_SAFE_INTEGER}`)
    if (v < min) return fail(`Too small: expected number to be >=${min}`)
    if (v > max) return fail(`Too big: expected number to be <=${max}`)
    return undefined
  }
}

function text(pattern?: RegExp, message?: string): Check {
  return (v) => {
    if (typeof v !== 'string') return wrongType('string', v)
    if (pattern && !pattern.test(v)) return fail(message ?? 'Invalid string')
    return undefined
  }
}

const nonEmpty: Check = (v) =>
  typeof v !== 'string'
    ? wrongType('string', v)
    : v.length < 1
      ? fail('Too small: expected string to have >=1 characters')
      : undefined

const bool: Check = (v) => (typeof v === 'boolean' ? undefined : wrongType('boolean', v))

const nullable =
  (check: Check): Check =>
  (v) =>
    v === null ? undefined : check(v)

function list(item: Check): Check {
  return (v) => {
    if (!Array.isArray(v)) return wrongType('array', v)
    for (let i = 0; i < v.length; i++) {
      const issue = item(v[i])
      if (issue) return fail(issue.message, issue.path ? `${i}.${issue.path}` : String(i))
    }
    return undefined
  }
}

const IPV4 =
  /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])$/
const ipv4 =
  (message: string): Check =>
  (v) =>
    typeof v === 'string' && IPV4.test(v) ? undefined : fail(message)

const hostPort = text(/^[^\s:]+:\d{1,5}$/, 'expected HOST:PORT')
const port = int(0, 65535)

/** Every option, in the order they are checked (as zod did: the first problem is reported). */
const OPTION_CHECKS: Record<keyof ServerOptions, Check> = {
  name: text(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, ".", "_" or "-", at most 64'),
  root: nonEmpty,
  host: nonEmpty,
  port,
  syncPort: port,
  http: bool,
  httpPort: port,
  maxHttpConnections: int(1, 100_000),
  httpHeadersTimeoutMs: int(100),
  peers: list(hostPort),
  maxClients: int(1, 1000),
  workers: int(0, 64),
  stateDir: nonEmpty,
  idleTimeoutMs: int(100),
  helloTimeoutMs: int(100),
  maxPreHelloPerAddress: int(1, 10_000),
  maxPreHello: int(1, 10_000),
  lockTimeoutMs: int(1),
  /** Heartbeats come each second: under 1.5 s a busy member would flap. */
  peerTimeoutMs: int(1_500, 3_600_000),
  shutdownGraceMs: int(0),
  requestWindow: int(1, 1_000_000),
  requestWindowAgeMs: int(1_000),
  cluster: text(/^[A-Za-z0-9._-]{1,63}$/, 'letters, digits, ".", "_" or "-", at most 63'),
  clusterInterface: ipv4('expected the IPv4 address of an interface'),
  /** The cluster key itself (--cluster-key reads it from a file; TANDEM_CLUSTER_KEY gives it). */
  clusterKey: text(),
  /** The primary's control port: this server is then its secondary (roles). */
  primary: nullable(hostPort),
  /** Copies of each file (partial replication); null or absent: every member holds every file. */
  replicas: nullable(int(1, 64)),
  rereplicateAfterMs: int(1_000, 30 * 86_400_000),
  proxyReads: bool,
}

/** The options as given (flags, a --config file): all optional; `undefined` is absent. */
export interface ServerOptions {
  name?: string
  root?: string
  host?: string
  port?: number
  syncPort?: number
  http?: boolean
  httpPort?: number
  maxHttpConnections?: number
  httpHeadersTimeoutMs?: number
  peers?: string[]
  maxClients?: number
  workers?: number
  stateDir?: string
  idleTimeoutMs?: number
  helloTimeoutMs?: number
  maxPreHelloPerAddress?: number
  maxPreHello?: number
  lockTimeoutMs?: number
  peerTimeoutMs?: number
  shutdownGraceMs?: number
  requestWindow?: number
  requestWindowAgeMs?: number
  cluster?: string
  clusterInterface?: string
  clusterKey?: string
  primary?: string | null
  replicas?: number | null
  rereplicateAfterMs?: number
  proxyReads?: boolean
}

/** The first problem with `raw` as options (its path, dotted, and zod's message), if any. */
export function checkOptions(
  raw: unknown,
): { ok: true; options: ServerOptions } | { ok: false; path: string; message: string } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { ok: false, ...wrongType('object', raw) }
  const record = raw as Record<string, unknown>
  const options: Record<string, unknown> = {}
  for (const [key, check] of Object.entries(OPTION_CHECKS)) {
    const value = record[key]
    if (value === undefined) continue
    const issue = check(value)
    if (issue)
      return { ok: false, path: issue.path ? `${key}.${issue.path}` : key, message: issue.message }
    options[key] = Array.isArray(value) ? [...(value as unknown[])] : value
  }
  const unknown = Object.keys(record).filter((key) => !Object.hasOwn(OPTION_CHECKS, key))
  if (unknown.length > 0)
    return {
      ok: false,
      path: '',
      message: `Unrecognized key${unknown.length > 1 ? 's' : ''}: ${unknown.map((k) => JSON.stringify(k)).join(', ')}`,
    }
  return { ok: true, options: options as ServerOptions }
}

export interface ServerConfig {
  readonly name: string
  /** Absolute path of the data directory. */
  readonly root: string
  readonly host: string
  readonly port: number
  readonly syncPort: number
  readonly peers: readonly string[]
  readonly maxClients: number
  /** Session worker threads (resolved: never 0, never more than maxClients). */
  readonly workers: number
  /** Absolute path of the state directory (database, pid file); outside the served tree. */
  readonly stateDir: string
  readonly idleTimeoutMs: number
  /** A connection that has not sent its whole hello this long after it opened is closed. */
  readonly helloTimeoutMs: number
  readonly maxPreHelloPerAddress: number
  readonly maxPreHello: number
  readonly lockTimeoutMs: number
  /** A member whose heartbeats stop for this long is down (its links are closed and retried). */
  readonly peerTimeoutMs: number
  readonly shutdownGraceMs: number
  readonly busyRetryAfterMs: number
  /** The HTTP port (0: a free one), or null: no HTTP. */
  readonly httpPort: number | null
  readonly maxHttpConnections: number
  readonly httpHeadersTimeoutMs: number
  /** Request ids kept per client for replays, and for how long (ms). */
  readonly requestWindow: number
  readonly requestWindowAgeMs: number
  /** The cluster this server finds its members in by multicast DNS, or null (no mDNS socket). */
  readonly cluster: string | null
  readonly clusterInterface: string | null
  /**
   * The cluster key (its bytes as read, one trailing newline trimmed; at least
   * CLUSTER_KEY_MIN_BYTES), or null. Every peer connection proves it both ways; never logged.
   */
  readonly clusterKey: string | null
  /**
   * Roles: the primary's control port (HOST:PORT) when this server is a secondary — it forwards
   * every client write there and mirrors from it; null: an equal of its peers.
   */
  readonly primary: string | null
  /**
   * Placement: each file is kept on this many live members (the one that created it, and others
   * by the placement rule); null: every member holds every file (full mirroring). Every member of
   * a cluster must agree (ERR_REPLICAS_MISMATCH at the handshake).
   */
  readonly replicas: number | null
  /** A member down longer than this is given up on: its files get new copies elsewhere. */
  readonly rereplicateAfterMs: number
  /** HTTP reads of a file this server does not hold are proxied from a holder, not redirected. */
  readonly proxyReads: boolean
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** Validate options and fill defaults. Throws ConfigError naming the bad option. */
export function resolveConfig(options: unknown): ServerConfig {
  const parsed = checkOptions(options)
  if (!parsed.ok) throw new ConfigError(`invalid option ${parsed.path}: ${parsed.message}`)
  const { http, httpPort, ...o } = parsed.options
  if (o.cluster !== undefined && o.clusterKey === undefined)
    throw new ConfigError(
      `--cluster ${o.cluster} needs a cluster key: --cluster-key FILE or TANDEM_CLUSTER_KEY (the same on every member)`,
    )
  // The name is the instance's DNS label, which holds 63 bytes at most.
  if (o.cluster !== undefined && (o.name ?? DEFAULTS.name).length > 63)
    throw new ConfigError(`--cluster needs a server name (--name) of at most 63 characters`)
  // A secondary mirrors everything from its primary and forwards every write there: a primary
  // holding only some files could not take a write to another's file (nor serve its append).
  if (
    o.primary !== undefined &&
    o.primary !== null &&
    o.replicas !== undefined &&
    o.replicas !== null
  )
    throw new ConfigError(
      `--primary and --replicas do not go together: a secondary keeps a copy of every file its primary has`,
    )
  const root = path.resolve(o.root ?? DEFAULTS.root)
  const controlPort = o.port ?? DEFAULTS.port
  if (o.primary !== undefined && o.primary === `${o.host ?? DEFAULTS.host}:${controlPort}`)
    throw new ConfigError(`invalid option primary: ${o.primary} is this server itself`)
  return Object.freeze({
    ...DEFAULTS,
    ...o,
    root,
    httpPort:
      (http ?? DEFAULTS.http)
        ? (httpPort ?? (controlPort === 0 ? 0 : controlPort + HTTP_PORT_OFFSET))
        : null,
    // Beside the data directory, hidden, so that emptying the data directory keeps the state.
    stateDir: path.resolve(
      o.stateDir ?? path.join(path.dirname(root), `.${path.basename(root)}.tandem`),
    ),
    peers: Object.freeze([...(o.peers ?? [])]),
    primary: o.primary ?? null,
    replicas: o.replicas ?? null,
    workers: resolveWorkers(o.workers ?? DEFAULTS.workers, o.maxClients ?? DEFAULTS.maxClients),
    clusterKey: resolveClusterKey(o.clusterKey),
  })
}

/** A key of at least CLUSTER_KEY_MIN_BYTES, one trailing newline trimmed (as a file ends). */
function resolveClusterKey(raw: string | undefined): string | null {
  if (raw === undefined) return null
  const key = raw.replace(/\r?\n$/, '')
  const bytes = Buffer.byteLength(key, 'utf8')
  if (bytes < CLUSTER_KEY_MIN_BYTES)
    throw new ConfigError(
      `the cluster key is ${bytes} bytes; it needs at least ${CLUSTER_KEY_MIN_BYTES} (make one: head -c 32 /dev/urandom | base64 > cluster.key)`,
    )
  return key
}

/**
 * The servers this one mirrors from: its peers, and its primary (an implicit member link) when it
 * is a secondary.
 */
export function mirroredAddresses(config: Pick<ServerConfig, 'peers' | 'primary'>): string[] {
  const { peers, primary } = config
  return primary === null || peers.includes(primary) ? [...peers] : [...peers, primary]
}

/**
 * Sessions share worker threads: on a small machine nine threads (one per client) only add
 * context switches and ~12 MiB of memory each, while a few threads run many async sessions.
 */
function resolveWorkers(requested: number, maxClients: number): number {
  const wanted = requested > 0 ? requested : Math.max(2, os.availableParallelism())
  return Math.min(wanted, maxClients)
}

/** Read a --config file: JSON with the same keys as the options. */
export function readConfigFile(file: string): ServerOptions {
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`)
  }
  const parsed = checkOptions(raw)
  if (!parsed.ok) throw new ConfigError(`config file ${file}: ${parsed.message}`)
  return parsed.options
}
