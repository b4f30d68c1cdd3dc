/**
 * A cluster of real tandem servers (A, B, C…) that mirror each other, for the sync tests. Each
 * server has its own temp root and state dir and pre-allocated control and sync ports (a peer
 * must know the others' control ports at start, and a restarted server comes back on the same
 * ones), and every other server as `--peer`. Everything is cleaned up when the test ends.
 */
import { spawn } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import fs from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { onTestFailed } from 'vitest'
import type { FileRow, StatusResult } from '../../src/protocol/index.js'
import { registerCleanup, trackProcess } from './cleanup.js'
import { startServer, TANDEM_BIN, type ServerHandle } from './server-process.js'
import { tempDir } from './temp-dir.js'
import { TestClient } from './test-client.js'
import { waitFor } from './wait-for.js'

const OUTPUT_LINES_ON_FAILURE = 40
/** The client id of the status and listing probes. */
const PROBE_ID = 'cluster-probe'

export interface ClusterOptions {
  /** Server names, in order (default A, B, C…). */
  names?: string[]
  /** Added to every server's command line. */
  extraArgs?: string[]
  /** Wait until every server sees every peer up (default true). */
  waitPeers?: boolean
  /** Called once the servers' directories exist, before any server starts (mount a disk…). */
  beforeStart?: (servers: readonly ClusterServer[]) => Promise<void> | void
  /** Serve HTTP too, each server on a free port (`httpUrl`); off by default. */
  http?: boolean
}

/** What `status --json` says (the server's own type: peers and the sync engine included). */
export type ClusterStatus = StatusResult
/** One row of `ls --json`. */
export type ListRow = FileRow

export class ClusterServer {
  readonly host = '127.0.0.1'
  /** 'host:port' of the control port. */
  readonly address: string
  #handle: ServerHandle | undefined
  #earlierOutput = ''
  /** Extra environment for its next starts (a test hook: TANDEM_TEST_HOOK). */
  env: Record<string, string> = {}

  constructor(
    readonly name: string,
    readonly root: string,
    readonly stateDir: string,
    readonly port: number,
    readonly syncPort: number,
    readonly peers: readonly string[],
    readonly extraArgs: readonly string[],
    readonly http = false,
  ) {
    this.address = `${this.host}:${port}`
  }

  /** `http://host:port` of its HTTP front end (a new port at each start), when `http` is on. */
  get httpUrl(): string {
    const url = this.#handle?.httpUrl
    if (url === undefined)
      throw new Error(`server ${this.name} serves no HTTP (or has not started)`)
    return url
  }

  get running(): boolean {
    const proc = this.#handle?.proc
    return proc !== undefined && proc.exitCode === null && proc.signalCode === null
  }

  /** Everything this server printed, over all its runs. */
  output(): string {
    return this.#earlierOutput + (this.#handle?.output() ?? '')
  }

  /** Start it on its ports and directories; resolves once the control port accepts connections. */
  async start(): Promise<void> {
    if (this.running) throw new Error(`server ${this.name} is already running`)
    this.#earlierOutput = this.output()
    const peerArgs = this.peers.flatMap((peer) => ['--peer', peer])
    this.#handle = await startServer({
      name: this.name,
      root: this.root,
      stateDir: this.stateDir,
      http: this.http,
      env: this.env,
      // The later --port wins over the port 0 that serverArgs puts first.
      extraArgs: ['--port', String(this.port), '--sync-port', String(this.syncPort)]
        .concat(peerArgs)
        .concat(this.extraArgs),
    })
    // The first "listening on" line may be another listener's: wait for the control port itself.
    await waitFor(() => canConnect(this.port), { what: `${this.name}'s control port` })
  }

  /** SIGTERM and wait for the exit; resolves to the exit code. */
  async stop(): Promise<number | null> {
    if (!this.#handle) throw new Error(`server ${this.name} was never started`)
    return this.#handle.stop('SIGTERM')
  }

  async kill9(): Promise<void> {
    await this.#handle?.kill9()
  }

  async restart(): Promise<void> {
    if (this.running) await this.stop()
    await this.start()
  }

  /** Run `tandem --server ADDRESS --json ARGS...` and parse its stdout; throws on a failure. */
  cli<T = unknown>(...args: string[]): Promise<T> {
    return runTandemJson<T>(['--server', this.address, '--json', ...args])
  }

  /** `status`, through a protocol connection (cheap enough to poll; same object as --json). */
  async status(): Promise<ClusterStatus> {
    const client = await TestClient.connect(this.port, { clientId: PROBE_ID })
    try {
      const reply = await client.status()
      if (!reply.ok) throw new Error(`status: ${reply.error?.code}`)
      return reply.result as unknown as ClusterStatus
    } finally {
      await client.close()
    }
  }

  /** The composite listing, through a protocol connection (the rows `ls --json` prints). */
  async list(): Promise<ListRow[]> {
    const client = await TestClient.connect(this.port, { clientId: PROBE_ID })
    try {
      const reply = await client.list()
      if (!reply.ok) throw new Error(`list: ${reply.error?.code}`)
      return reply.result!.files as ListRow[]
    } finally {
      await client.close()
    }
  }

  /**
   * Run `tandem --server ADDRESS --json log --follow` and keep it running (killed at the end of
   * the test); `entries()` returns the entries it has printed so far.
   */
  followLog(): { entries(): Record<string, unknown>[]; stop(): void } {
    const proc = spawn(
      process.execPath,
      [TANDEM_BIN, '--server', this.address, '--json', 'log', '--follow'],
      { env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    )
    trackProcess(proc)
    const stop = () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
    }
    registerCleanup(stop)
    let stdout = ''
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    const entries = () =>
      stdout
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>)
    return { entries, stop }
  }

  /** Path of `name` inside this server's data directory. */
  file(name: string): string {
    return path.join(this.root, ...name.split('/'))
  }

  /** Write `name` straight into the data directory, as another program would (folders made). */
  async write(name: string, content: string | Uint8Array): Promise<void> {
    await fs.mkdir(path.dirname(this.file(name)), { recursive: true })
    await fs.writeFile(this.file(name), content)
  }
}

/** The servers of a cluster of n, typed as a tuple for the usual sizes. */
export type Cluster<N extends number> = N extends 2
  ? [ClusterServer, ClusterServer]
  : N extends 3
    ? [ClusterServer, ClusterServer, ClusterServer]
    : ClusterServer[]

/** What a server made by `newServer` is: its ports, peers and further arguments. */
export interface NewServer {
  name: string
  port: number
  syncPort: number
  peers?: readonly string[]
  extraArgs?: readonly string[]
  http?: boolean
}

/** A server (not started) with a fresh temp data directory and state directory of its own. */
export function newServer(o: NewServer): ClusterServer {
  const base = tempDir(`tandem-${o.name}-`)
  const root = path.join(base, 'root')
  const stateDir = path.join(base, 'state')
  mkdirSync(root)
  mkdirSync(stateDir)
  return new ClusterServer(
    o.name,
    root,
    stateDir,
    o.port,
    o.syncPort,
    o.peers ?? [],
    o.extraArgs ?? [],
    o.http ?? false,
  )
}

/** Start n servers that each have all the others as peers. */
export async function startCluster<N extends number>(
  n: N,
  options: ClusterOptions = {},
): Promise<Cluster<N>> {
  const names = options.names ?? Array.from({ length: n }, (_, i) => String.fromCharCode(65 + i))
  const ports = await freePorts(2 * n)
  const servers = names.slice(0, n).map((name, i) =>
    newServer({
      name,
      port: ports[i]!,
      syncPort: ports[n + i]!,
      peers: ports.slice(0, n).flatMap((port, j) => (j === i ? [] : [`127.0.0.1:${port}`])),
      extraArgs: [...(options.extraArgs ?? [])],
      http: options.http ?? false,
    }),
  )
  showOutputOnFailure(servers)
  await options.beforeStart?.(servers)
  await Promise.all(servers.map((server) => server.start()))
  if (options.waitPeers ?? true)
    await Promise.all(servers.map((server) => waitPeersUp(server, n - 1)))
  return servers as Cluster<N>
}

/** When the test fails, print what each server said (the last lines), to see why. */
export function showOutputOnFailure(servers: readonly ClusterServer[]): void {
  try {
    onTestFailed(() => {
      for (const server of servers) {
        // The status probes' connect/leave lines would crowd out the rest.
        const lines = server
          .output()
          .trimEnd()
          .split('\n')
          .filter((line) => !line.includes(PROBE_ID))
          .slice(-OUTPUT_LINES_ON_FAILURE)
        console.error(
          `--- server ${server.name}, last ${lines.length} lines ---\n${lines.join('\n')}`,
        )
      }
    })
  } catch {
    // outside a test (beforeAll): nothing to attach to
  }
}

/**
 * Ports below the kernel's ephemeral range (32768–60999 here): an outgoing connection of any test
 * (clients, peers) takes its local port from that range, and one that took a port just handed
 * out made the server meant for it fail with ERR_PORT_IN_USE. Drawn at random from below that
 * range, each checked by listening on it, and never handed out twice by one test worker.
 */
const PORT_LOW = 20_000
const PORT_HIGH = 32_767
const handedOut = new Set<number>()

function listenOn(port: number): Promise<net.Server | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer()
    server.once('error', () => resolve(undefined))
    server.listen(port, '127.0.0.1', () => resolve(server))
  })
}

/** `count` distinct ports free on 127.0.0.1 now (for servers started with them at once). */
export async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = []
  const held: net.Server[] = []
  try {
    for (let tries = 0; ports.length < count; tries++) {
      if (tries > 10_000)
        throw new Error(`no ${count} free ports found in ${PORT_LOW}–${PORT_HIGH}`)
      const port = PORT_LOW + Math.floor(Math.random() * (PORT_HIGH - PORT_LOW + 1))
      if (handedOut.has(port)) continue
      const server = await listenOn(port)
      if (!server) continue
      held.push(server)
      handedOut.add(port)
      ports.push(port)
    }
  } finally {
    await Promise.all(held.map((server) => new Promise((resolve) => server.close(resolve))))
  }
  return ports
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/** Poll `status` until `server` sees at least `count` peers up. */
export async function waitPeersUp(
  server: ClusterServer,
  count: number,
  timeoutMs = 15_000,
): Promise<ClusterStatus> {
  return waitFor(
    async () => {
      const status = await server.status()
      return status.peers.filter((peer) => peer.up).length >= count && status
    },
    { timeoutMs, intervalMs: 100, what: `${server.name} to see ${count} peer(s) up` },
  )
}

/** The CLI's environment: a fixed client id, and no TANDEM_SERVER that could pick a server. */
function cliEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TANDEM_CLIENT_ID: 'cluster-test' }
  delete env.TANDEM_SERVER
  return env
}

/** Run the CLI with `args`; resolves with its parsed JSON stdout, rejects on a non-zero exit. */
export function runTandemJson<T = unknown>(args: readonly string[]): Promise<T> {
  const proc = spawn(process.execPath, [TANDEM_BIN, ...args], {
    env: cliEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  trackProcess(proc)
  let stdout = ''
  let stderr = ''
  proc.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  return new Promise((resolve, reject) => {
    proc.once('error', reject)
    proc.once('close', (code) => {
      if (code !== 0)
        return reject(new Error(`tandem ${args.join(' ')} exited ${code}: ${stderr.trim()}`))
      try {
        resolve(JSON.parse(stdout) as T)
      } catch (err) {
        reject(
          new Error(`tandem ${args.join(' ')}: stdout is not JSON (${String(err)}): ${stdout}`),
        )
      }
    })
  })
}
