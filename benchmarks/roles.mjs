/**
 * Roles: what a write through a secondary costs next to the same write at the primary, on
 * loopback. A primary P and a secondary S (`--primary P`); one client connected to each (the real
 * client library from dist/), trials alternating between them so that drift hits both alike:
 *   - a 1 KiB append, answered once the primary committed it (p50, p99);
 *   - the mirror's lag after it: from the secondary's answer until its own disk holds the new
 *     content (what a read at the secondary right after its write may miss; no read-your-writes);
 *   - one big upload each way (MiB/s), streamed through the secondary frame by frame.
 *
 *   node benchmarks/run.mjs --only roles [--quick]
 */
import { statSync } from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { spawnTracked, stopChild, waitForOutput } from './lib/children.mjs'
import { freePorts } from './lib/cluster.mjs'
import { importDist } from './lib/dist.mjs'
import { percentile } from './lib/mirror-rows.mjs'
import { pollUntil } from './lib/mirror-wait.mjs'
import { TANDEM_BIN, tandemDirs } from './lib/servers.mjs'
import { MiB, median, round } from './lib/stats.mjs'
import { row } from './lib/summary.mjs'

const LISTENING = /listening on (\S+):(\d+)/

/**
 * @param {{ runs: number, trials: number, warmups: number, appendSize: number, bigSize: number,
 *   serverNodeArgs?: string[] }} config
 * @param {(line: string) => void} log
 */
export async function measureRoles(config, log) {
  const runs = []
  for (let run = 1; run <= config.runs; run++) {
    const result = await oneRun(config)
    runs.push(result)
    const s = result.summary
    log(
      `  run ${run}: append p50 ${s.primary.p50Ms} ms at P, ${s.secondary.p50Ms} ms through S (+${s.addedP50Ms}); p99 ${s.primary.p99Ms} / ${s.secondary.p99Ms} ms; mirror lag p50 ${s.lag.p50Ms} ms, p99 ${s.lag.p99Ms} ms; ${config.bigSize / MiB} MiB upload ${s.bigMiBps.primary} MiB/s at P, ${s.bigMiBps.secondary} through S`,
    )
  }
  return { config, runs }
}

/** @param {Parameters<typeof measureRoles>[0]} config */
async function oneRun(config) {
  const { connect } = await importDist('client/connection.js')
  const ports = await freePorts(4)
  const servers = []
  try {
    const primary = await startServer('P', ports[0], ports[1], [], config.serverNodeArgs)
    servers.push(primary)
    const secondary = await startServer(
      'S',
      ports[2],
      ports[3],
      ['--primary', `127.0.0.1:${ports[0]}`],
      config.serverNodeArgs,
    )
    servers.push(secondary)
    const atP = await connect({ host: '127.0.0.1', port: primary.port, clientId: 'bench-p' })
    const atS = await connect({ host: '127.0.0.1', port: secondary.port, clientId: 'bench-s' })
    try {
      await atP.create('p.log', Buffer.alloc(0))
      await atS.create('s.log', Buffer.alloc(0))
      await waitSize(secondary.file('s.log'), 0)
      const chunk = Buffer.alloc(config.appendSize, 'x')
      /** @type {{ primary: number[], secondary: number[], lag: number[] }} */
      const ms = { primary: [], secondary: [], lag: [] }
      let sSize = 0
      for (let i = 0; i < config.warmups + config.trials; i++) {
        const counted = i >= config.warmups
        let t0 = performance.now()
        await atP.append('p.log', chunk)
        if (counted) ms.primary.push(performance.now() - t0)
        t0 = performance.now()
        await atS.append('s.log', chunk)
        const answered = performance.now()
        sSize += chunk.length
        if (counted) ms.secondary.push(answered - t0)
        const seen = await waitSize(secondary.file('s.log'), sSize)
        if (counted) ms.lag.push(seen - answered)
      }
      const big = Buffer.alloc(config.bigSize, 7)
      let t0 = performance.now()
      await atP.upload('big-p.bin', big)
      const bigP = performance.now() - t0
      // The secondary mirrors that file first: its disk and CPU are then free for the next one.
      await waitSize(secondary.file('big-p.bin'), config.bigSize, 120_000)
      t0 = performance.now()
      await atS.upload('big-s.bin', big)
      const bigS = performance.now() - t0
      const stats = (/** @type {number[]} */ v) => ({
        p50Ms: round(percentile(v, 0.5), 2),
        p99Ms: round(percentile(v, 0.99), 2),
      })
      const primaryStats = stats(ms.primary)
      const secondaryStats = stats(ms.secondary)
      return {
        samples: ms,
        bigMs: { primary: bigP, secondary: bigS },
        summary: {
          primary: primaryStats,
          secondary: secondaryStats,
          addedP50Ms: round(secondaryStats.p50Ms - primaryStats.p50Ms, 2),
          addedP99Ms: round(secondaryStats.p99Ms - primaryStats.p99Ms, 2),
          lag: stats(ms.lag),
          bigMiBps: {
            primary: round(config.bigSize / MiB / (bigP / 1000), 1),
            secondary: round(config.bigSize / MiB / (bigS / 1000), 1),
          },
        },
      }
    } finally {
      await atP.close()
      await atS.close()
    }
  } finally {
    for (const server of servers.reverse()) await server.stop()
  }
}

/**
 * @param {string} name @param {number} port @param {number} syncPort @param {string[]} extra
 * @param {string[]} [nodeArgs]
 */
async function startServer(name, port, syncPort, extra, nodeArgs = []) {
  const dirs = tandemDirs(`tandem-bench-roles-${name.toLowerCase()}-`)
  const args = [
    ...nodeArgs,
    TANDEM_BIN,
    'serve',
    ...['--name', name, '--root', dirs.root, '--state', dirs.state, '--host', '127.0.0.1'],
    ...['--port', String(port), '--sync-port', String(syncPort), '--no-http', ...extra],
  ]
  const proc = spawnTracked(process.execPath, args)
  await waitForOutput(proc, LISTENING)
  return {
    name,
    port,
    file: (/** @type {string} */ n) => path.join(dirs.root, n),
    stop: () => stopChild(proc.child),
  }
}

/**
 * Poll (1 ms apart) until `file` has `size` bytes; resolves to the time of the poll that saw it.
 * @param {string} file @param {number} size @param {number} [timeoutMs]
 */
async function waitSize(file, size, timeoutMs = 10_000) {
  const result = await pollUntil(
    () => {
      try {
        return statSync(file).size === size
      } catch {
        return false
      }
    },
    { intervalMs: 1, timeoutMs },
  )
  if (result.timedOut) throw new Error(`${file} did not reach ${size} bytes in ${timeoutMs} ms`)
  return result.done
}

/**
 * The summary table's rows: medians over runs (same Row shape as lib/summary.mjs). The issue
 * sets no target; the baseline column is the same write at the primary.
 * @param {{ config: any, runs: any[] }} roles @returns {import('./lib/summary.mjs').Row[]}
 */
export function roleRows(roles) {
  const med = (/** @type {(r: any) => number} */ f) => median(roles.runs.map(f))
  const report = { target: 'report' }
  const size = roles.config.appendSize
  const atP = (/** @type {'p50Ms' | 'p99Ms'} */ p) => ({
    baseline: med((r) => r.summary.primary[p]),
    baselineName: 'at the primary',
  })
  return [
    row(
      `${size} B append through a secondary, p50`,
      'ms',
      med((r) => r.summary.secondary.p50Ms),
      {
        ...atP('p50Ms'),
        ...report,
      },
    ),
    row(
      '  p99',
      'ms',
      med((r) => r.summary.secondary.p99Ms),
      { ...atP('p99Ms'), ...report },
    ),
    row(
      '  mirror lag after the answer, p50',
      'ms',
      med((r) => r.summary.lag.p50Ms),
      report,
    ),
    row(
      '  p99',
      'ms',
      med((r) => r.summary.lag.p99Ms),
      report,
    ),
    row(
      `${roles.config.bigSize / MiB} MiB upload through a secondary`,
      'MiB/s',
      med((r) => r.summary.bigMiBps.secondary),
      {
        baseline: med((r) => r.summary.bigMiBps.primary),
        baselineName: 'at the primary',
        ...report,
      },
    ),
  ]
}
