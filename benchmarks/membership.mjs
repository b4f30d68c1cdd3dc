/**
 * How long from a member's end to "down" at every other member? Three real servers on
 * 127.0.0.1, each the others' --peer, with --peer-timeout 2s. Two ways to end: kill -9 (the kernel
 * closes its sockets: the links see it at once) and SIGSTOP (nothing is closed: only the
 * heartbeat watchdog can tell, after --peer-timeout). Measured to the console line
 * `member C left` at both A and B, as it reaches the benchmark; the time to `member C joined`
 * again after SIGCONT is measured too.
 *   node benchmarks/membership.mjs [--runs N]
 */
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { startCluster, stopCluster, whileAlive } from './lib/cluster.mjs'
import { installExitHooks } from './lib/children.mjs'
import { median } from './lib/stats.mjs'
import { row } from './lib/summary.mjs'

const PEER_TIMEOUT = '2s'
const NAMES = ['A', 'B', 'C']
const DEADLINE_MS = 30_000

/**
 * Resolves with the ms from `since` until every one of `servers` printed a line containing
 * `needle` (at or after `since`).
 * @param {import('./lib/cluster.mjs').ClusterServer[]} servers @param {number} since
 * @param {string} needle @returns {Promise<number>}
 */
async function everywhere(servers, since, needle) {
  const deadline = performance.now() + DEADLINE_MS
  for (;;) {
    const times = servers.map((s) =>
      s.lines.find(([t, line]) => t >= since && line.includes(needle)),
    )
    if (times.every(Boolean))
      return Math.max(...times.map((x) => /** @type {number} */ (x?.[0]) - since))
    if (performance.now() > deadline)
      throw new Error(`no "${needle}" at every server within ${DEADLINE_MS} ms`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** @param {{ runs: number, serverNodeArgs?: string[] }} config @param {(line: string) => void} log */
export async function measureMembership(config, log) {
  /** @type {{ killMs: number, stopMs: number, rejoinMs: number }[]} */
  const runs = []
  for (let run = 0; run < config.runs; run++) {
    const cluster = await startCluster({
      names: NAMES,
      prefix: 'members',
      nodeArgs: config.serverNodeArgs ?? [],
      extraArgs: ['--peer-timeout', PEER_TIMEOUT],
    })
    try {
      const [a, b, c] = /** @type {import('./lib/cluster.mjs').ClusterServer[]} */ (cluster)
      const others = [/** @type {any} */ (a), /** @type {any} */ (b)]
      await whileAlive(cluster, everywhere(others, 0, 'member C joined'))
      // SIGSTOP: silent, every socket open.
      let since = performance.now()
      process.kill(c.pid, 'SIGSTOP')
      const stopMs = await everywhere(others, since, 'member C left')
      since = performance.now()
      process.kill(c.pid, 'SIGCONT')
      const rejoinMs = await everywhere(others, since, 'member C joined')
      // kill -9: the sockets close.
      since = performance.now()
      process.kill(c.pid, 'SIGKILL')
      const killMs = await everywhere(others, since, 'member C left')
      runs.push({ killMs, stopMs, rejoinMs })
      log(
        `  run ${run + 1}: kill -9 → down everywhere ${killMs.toFixed(0)} ms; SIGSTOP → down ${stopMs.toFixed(0)} ms (--peer-timeout ${PEER_TIMEOUT}); SIGCONT → up ${rejoinMs.toFixed(0)} ms`,
      )
    } finally {
      await stopCluster(cluster)
    }
  }
  return {
    config: { peerTimeout: PEER_TIMEOUT, servers: NAMES.length, runs: config.runs },
    runs,
    summary: {
      killMs: median(runs.map((r) => r.killMs)),
      stopMs: median(runs.map((r) => r.stopMs)),
      rejoinMs: median(runs.map((r) => r.rejoinMs)),
    },
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  installExitHooks()
  const { values } = parseArgs({ options: { runs: { type: 'string' } } })
  const log = (/** @type {string} */ line) => process.stdout.write(`${line}\n`)
  const result = await measureMembership({ runs: Number(values.runs ?? 3) }, log)
  log(JSON.stringify(result.summary))
}

/**
 * The table's rows: the issue asks for the time from a kill -9 to "down" everywhere; SIGSTOP and
 * the way back are context. The baseline column holds --peer-timeout.
 * @param {{ summary: { killMs: number, stopMs: number, rejoinMs: number } }} m
 * @returns {import('./lib/summary.mjs').Row[]}
 */
export function membershipRows(m) {
  const timeout = { baseline: 2_000, baselineName: '--peer-timeout', target: 'report' }
  return [
    row('member kill -9 → down at both others', 'ms', m.summary.killMs, timeout),
    row('member SIGSTOP → down at both others', 'ms', m.summary.stopMs, timeout),
    row('member SIGCONT → up again at both', 'ms', m.summary.rejoinMs, timeout),
  ]
}
