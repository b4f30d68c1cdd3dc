/**
 * Two (or more) real `tandem serve` processes that mirror each other, each the others' `--peer`.
 * Control and file-exchange ports are allocated up front (a peer must know the others' control
 * ports before any of them listens, so port 0 cannot be used). Every console line of every server
 * is kept with the time it reached the benchmark, so that a slow sample can be explained.
 */
import net from 'node:net'
import { performance } from 'node:perf_hooks'
import { rmSync } from 'node:fs'
import path from 'node:path'
import { spawnTracked, stopChild, waitForOutput } from './children.mjs'
import { TANDEM_BIN, tandemDirs } from './servers.mjs'

const LISTENING = /listening on (\S+):(\d+)/
const MAX_KEPT_LINES = 50_000

/**
 * `count` free TCP ports on 127.0.0.1: all are held open together, so none is handed out twice,
 * then released for the servers to take.
 * @param {number} count @returns {Promise<number[]>}
 */
export async function freePorts(count) {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        /** @type {Promise<net.Server>} */ (
          new Promise((resolve, reject) => {
            const server = net.createServer()
            server.once('error', reject)
            server.listen(0, '127.0.0.1', () => resolve(server))
          })
        ),
    ),
  )
  const ports = servers.map((s) => /** @type {net.AddressInfo} */ (s.address()).port)
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
  return ports
}

/**
 * @typedef {{ name: string, pid: number, host: string, port: number, syncPort: number,
 *   root: string, state: string, base: string, command: string[],
 *   lines: [number, string][], output(): string, stop(): Promise<number | null>,
 *   died: Promise<never> }} ClusterServer
 */

/**
 * Settle as `promise` does, unless one of `servers` exits first (it was not asked to): then fail
 * at once, rather than waiting out a deadline for a server that is gone.
 * @template T @param {ClusterServer[]} servers @param {Promise<T>} promise @returns {Promise<T>}
 */
export function whileAlive(servers, promise) {
  return Promise.race([promise, ...servers.map((s) => s.died)])
}

/**
 * A promise that rejects when `child` exits before `stopping()` is true.
 * @param {string} name @param {{ child: import('node:child_process').ChildProcess, output: { text: string } }} proc
 * @param {() => boolean} stopping @returns {Promise<never>}
 */
function deathOf(name, proc, stopping) {
  const died = new Promise((_resolve, reject) => {
    proc.child.once('exit', (code, signal) => {
      if (stopping()) return
      const why = signal ? `signal ${signal}` : `code ${code}`
      reject(
        new Error(
          `server ${name} exited (${why}) while the benchmark was using it${code === 0 ? ': a clean stop, so something outside sent it SIGTERM or SIGINT' : ''}; its last output:\n${proc.output.text.slice(-2000)}`,
        ),
      )
    })
  })
  died.catch(() => undefined) // observed through whileAlive(); never an unhandled rejection
  return /** @type {Promise<never>} */ (died)
}

/**
 * Keep every stdout line of `child` with the performance.now() at which it arrived.
 * @param {import('node:child_process').ChildProcess} child @returns {[number, string][]}
 */
function timestampLines(child) {
  /** @type {[number, string][]} */
  const lines = []
  let partial = ''
  child.stdout?.on('data', (/** @type {Buffer} */ chunk) => {
    const now = performance.now()
    const parts = (partial + chunk.toString('utf8')).split('\n')
    partial = parts.pop() ?? ''
    for (const line of parts) if (lines.length < MAX_KEPT_LINES) lines.push([now, line])
  })
  return lines
}

/**
 * Start `names.length` servers, each with all the others as peers; resolves when every one of
 * them prints its ready line (not when the links are up: see `waitMirroring` in mirror-wait.mjs).
 * `argsFor(name)`: arguments for that server alone, after `extraArgs`.
 * @param {{ names?: string[], nodeArgs?: string[], prefix?: string, extraArgs?: string[],
 *   argsFor?: (name: string) => string[] }} [options]
 * @returns {Promise<ClusterServer[]>}
 */
export async function startCluster({
  names = ['A', 'B'],
  nodeArgs = [],
  prefix = 'mirror',
  extraArgs = [],
  argsFor = () => [],
} = {}) {
  const ports = await freePorts(names.length * 2)
  const plan = names.map((name, i) => {
    const dirs = tandemDirs(`tandem-bench-${prefix}-${name.toLowerCase()}-`)
    return {
      name,
      ...dirs,
      base: path.dirname(dirs.root),
      port: /** @type {number} */ (ports[2 * i]),
      syncPort: /** @type {number} */ (ports[2 * i + 1]),
    }
  })
  /** @type {ClusterServer[]} */
  const started = []
  try {
    for (const p of plan) {
      const peers = plan.filter((q) => q !== p).flatMap((q) => ['--peer', `127.0.0.1:${q.port}`])
      const args = [
        ...nodeArgs,
        TANDEM_BIN,
        'serve',
        ...['--name', p.name, '--root', p.root, '--state', p.state, '--host', '127.0.0.1'],
        ...['--port', String(p.port), '--sync-port', String(p.syncPort), ...peers],
        ...extraArgs,
        ...argsFor(p.name),
      ]
      const proc = spawnTracked(process.execPath, args)
      const lines = timestampLines(proc.child)
      let stopping = false
      started.push({
        ...p,
        pid: /** @type {number} */ (proc.child.pid),
        host: '127.0.0.1',
        command: ['node', ...args],
        lines,
        output: () => proc.output.text,
        died: deathOf(p.name, proc, () => stopping),
        stop: async () => {
          stopping = true
          await stopChild(proc.child)
          return proc.child.exitCode
        },
      })
      await waitForOutput(proc, LISTENING)
    }
    return started
  } catch (err) {
    await stopCluster(started)
    throw err
  }
}

/**
 * Stop every server (SIGTERM, then SIGKILL after a grace period) and remove its directories.
 * @param {ClusterServer[]} servers @returns {Promise<Record<string, number | null>>} exit codes
 */
export async function stopCluster(servers) {
  const codes = await Promise.all(servers.map((s) => s.stop()))
  for (const s of servers) rmSync(s.base, { recursive: true, force: true })
  return Object.fromEntries(servers.map((s, i) => [s.name, codes[i] ?? null]))
}

/**
 * The first console line of `server` that arrived at or after `since` and contains `needle`, as
 * [ms after since, line], or null. For explaining latencies, never for deciding anything.
 * @param {ClusterServer} server @param {number} since @param {string} needle
 * @returns {[number, string] | null}
 */
export function firstLineAfter(server, since, needle) {
  for (const [t, line] of server.lines) {
    if (t >= since && line.includes(needle)) return [Math.round((t - since) * 10) / 10, line]
  }
  return null
}

const HTTP_LISTENING = /HTTP API on http:\/\/[^/\s]+:(\d+)\//

/**
 * The port of `server`'s HTTP API, from its console line (it listens a moment after the control
 * port: waited for up to 10 s).
 * @param {ClusterServer} server @returns {Promise<number>}
 */
export async function httpPortOf(server) {
  const deadline = performance.now() + 10_000
  for (;;) {
    for (const [, line] of server.lines) {
      const m = HTTP_LISTENING.exec(line)
      if (m) return Number(m[1])
    }
    if (performance.now() > deadline) throw new Error(`${server.name} serves no HTTP`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
