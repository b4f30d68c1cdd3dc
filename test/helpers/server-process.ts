/**
 * A real tandem server as a child process (`node dist/bin/tandem.js serve ...` on port 0), for
 * integration, race and crash tests. Tests run against dist/: `npm test` builds first.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { registerCleanup, trackProcess } from './cleanup.js'
import { tempDir } from './temp-dir.js'
import { deadline } from './wait-for.js'

/** The executable under test; TANDEM_BIN overrides it (e.g. to test an installed build). */
export const TANDEM_BIN =
  process.env.TANDEM_BIN ?? fileURLToPath(new URL('../../dist/bin/tandem.js', import.meta.url))

const LISTENING = /listening on (\S+):(\d+)/
/** Printed before the LISTENING line when HTTP is on. */
const HTTP_ON = /HTTP API on (http:\/\/\S+?)\/? /
const START_TIMEOUT_MS = 20_000
const STOP_TIMEOUT_MS = 15_000

export interface ServerOptions {
  name?: string
  /** The data directory; a fresh temp dir by default. */
  root?: string
  /** The state directory (database, pid file); a fresh temp dir by default. */
  stateDir?: string
  maxClients?: number
  extraArgs?: string[]
  env?: Record<string, string>
  /**
   * Serve HTTP too (on a free port; `httpUrl` says where). Off by default in tests (`--no-http`):
   * a server that need not speak HTTP starts without the HTTP thread.
   */
  http?: boolean
  /** Run it inside this network namespace (test/helpers/netns.ts), via `ip netns exec`. */
  netns?: string
  /** The address to listen on (default 127.0.0.1; in a namespace, its address on the bridge). */
  host?: string
}

export interface ServerHandle {
  host: string
  port: number
  /** 'host:port' */
  address: string
  /** `http://host:port` (no trailing slash), when started with `http: true`. */
  httpUrl: string | undefined
  root: string
  stateDir: string
  proc: ChildProcess
  /** Everything the server printed so far (stdout and stderr interleaved by arrival). */
  output(): string
  /** Send `signal` and wait for the exit; resolves to the exit code (null if killed by a signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>
  /** SIGKILL and wait for the exit. */
  kill9(): Promise<void>
  /** Stop it if it still runs (SIGTERM), then start a new server on the same root and state. */
  restart(): Promise<ServerHandle>
}

/** Layout of one test server: `<tmp>/root`, `<tmp>/state` (the lock `root.lock` lands in `<tmp>`). */
function directories(options: ServerOptions): { root: string; stateDir: string } {
  if (options.root !== undefined && options.stateDir !== undefined)
    return { root: options.root, stateDir: options.stateDir }
  const base = tempDir('tandem-server-')
  const root = options.root ?? path.join(base, 'root')
  const stateDir = options.stateDir ?? path.join(base, 'state')
  mkdirSync(root, { recursive: true })
  mkdirSync(stateDir, { recursive: true })
  return { root, stateDir }
}

export function serverArgs(options: ServerOptions & { root: string; stateDir: string }): string[] {
  const args = [
    'serve',
    '--name',
    options.name ?? 'A',
    '--root',
    options.root,
    '--host',
    options.host ?? '127.0.0.1',
    '--port',
    '0',
    // A free file-exchange port too (flags in extraArgs come later and win).
    '--sync-port',
    '0',
  ]
  args.push('--state', options.stateDir)
  if (options.maxClients !== undefined) args.push('--max-clients', String(options.maxClients))
  args.push(...(options.http ? ['--http-port', '0'] : ['--no-http']))
  return [...args, ...(options.extraArgs ?? [])]
}

/**
 * The test run's environment without the variables that put a server in a cluster: a developer's
 * TANDEM_CLUSTER / TANDEM_CLUSTER_KEY would make every test server announce itself on the real
 * LAN and mirror with that cluster. A test that wants them passes them in `options.env`.
 */
export function withoutCluster(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const clean = { ...env }
  delete clean.TANDEM_CLUSTER
  delete clean.TANDEM_CLUSTER_KEY
  return clean
}

/** Spawn the server without waiting for it (for tests of servers that must fail to start). */
export function spawnServer(options: ServerOptions & { root: string; stateDir: string }): {
  proc: ChildProcess
  output: () => string
} {
  const command = [process.execPath, TANDEM_BIN, ...serverArgs(options)]
  if (options.netns !== undefined) command.unshift('ip', 'netns', 'exec', options.netns)
  const proc = spawn(command[0]!, command.slice(1), {
    env: { ...withoutCluster(process.env), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  trackProcess(proc)
  let text = ''
  proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => (text += chunk))
  proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => (text += chunk))
  if (process.env.TANDEM_TEST_VERBOSE) {
    proc.stdout?.on('data', (chunk: string) =>
      process.stdout.write(`[server ${proc.pid}] ${chunk}`),
    )
    proc.stderr?.on('data', (chunk: string) =>
      process.stderr.write(`[server ${proc.pid}] ${chunk}`),
    )
  }
  return { proc, output: () => text }
}

/** Resolve with the exit code once `proc` has exited (at once if it already has). */
export function exitOf(proc: ChildProcess): Promise<number | null> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(proc.exitCode)
  return new Promise((resolve) => proc.once('exit', (code) => resolve(code)))
}

function waitListening(
  proc: ChildProcess,
  output: () => string,
): Promise<{ host: string; port: number }> {
  return new Promise((resolve, reject) => {
    let seen = ''
    const onData = (chunk: string) => {
      seen += chunk
      const match = LISTENING.exec(seen)
      if (!match) return
      done()
      resolve({ host: match[1]!, port: Number(match[2]) })
    }
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      done()
      reject(
        new Error(`server exited (code ${code}, signal ${signal}) before listening:\n${output()}`),
      )
    }
    const done = () => {
      proc.stdout?.off('data', onData)
      proc.off('exit', onExit)
    }
    proc.stdout?.on('data', onData)
    proc.once('exit', onExit)
  })
}

/** Start a server and wait (with a deadline) until it prints its address. */
export async function startServer(options: ServerOptions = {}): Promise<ServerHandle> {
  const dirs = directories(options)
  const full = { ...options, ...dirs }
  const { proc, output } = spawnServer(full)
  let listening: { host: string; port: number }
  try {
    listening = await deadline(
      waitListening(proc, output),
      START_TIMEOUT_MS,
      `the server to listen; output so far:\n${output()}`,
    )
  } catch (err) {
    proc.kill('SIGKILL')
    throw err
  }
  const handle: ServerHandle = {
    ...listening,
    address: `${listening.host}:${listening.port}`,
    httpUrl: options.http ? HTTP_ON.exec(output())?.[1] : undefined,
    ...dirs,
    proc,
    output,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal)
      try {
        return await deadline(exitOf(proc), STOP_TIMEOUT_MS, `the server to exit on ${signal}`)
      } catch (err) {
        proc.kill('SIGKILL')
        throw err
      }
    },
    async kill9() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
      await exitOf(proc)
    },
    async restart() {
      if (proc.exitCode === null && proc.signalCode === null) await handle.stop()
      return startServer(full)
    },
  }
  registerCleanup(() => handle.kill9())
  return handle
}
