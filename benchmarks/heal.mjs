/**
 * Healing (issue 13): how long until every file has K live copies again after a member that held
 * them is lost, next to copying the same data between two directories with `cp -r`. Three real
 * servers on 127.0.0.1, each the others' --peer, `--replicas 2 --rereplicate-after 1s`. 1,000
 * files of 64 KiB are written into C's directory (C creates them, so C holds all 1,000 and each
 * has its second copy on A or B); once every file is on C and on exactly one of A and B, C is
 * killed with kill -9 and the clock runs until A and B both hold every file (checked on their
 * disks, by size). The healer's throttle (2 copies in flight, a byte budget) is part of what is
 * measured: it keeps clients served while the cluster heals.
 *   node benchmarks/run.mjs --only heal [--runs N]
 */
import { execFileSync } from 'node:child_process'
import { randomFillSync } from 'node:crypto'
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { tempDir } from './lib/children.mjs'
import { startCluster, stopCluster, whileAlive } from './lib/cluster.mjs'
import { median, round } from './lib/stats.mjs'
import { row } from './lib/summary.mjs'

const GRACE = '1s'
const GRACE_MS = 1_000
const FOLDER = 'heal'

/**
 * How many of `names` `root/heal/` holds whole (`size` bytes).
 * @param {string} root @param {string[]} names @param {number} size
 */
function held(root, names, size) {
  let n = 0
  for (const name of names) {
    try {
      if (statSync(path.join(root, FOLDER, name)).size === size) n++
    } catch {
      // not there (yet)
    }
  }
  return n
}

/**
 * Poll `done()` every 20 ms until it is true; resolves with the ms from `since`.
 * @param {() => boolean} done @param {number} since @param {number} timeoutMs @param {string} what
 */
async function until(done, since, timeoutMs, what) {
  for (;;) {
    if (done()) return performance.now() - since
    if (performance.now() - since > timeoutMs) throw new Error(`no ${what} within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** @param {{ runs: number, count: number, size: number, timeoutMs: number, serverNodeArgs?: string[] }} config @param {(line: string) => void} log */
export async function measureHeal(config, log) {
  const runs = []
  for (let run = 1; run <= config.runs; run++) {
    const r = await oneRun(config)
    runs.push(r)
    log(
      `  run ${run}: ${config.count} × ${config.size / 1024} KiB at C (second copies: ${r.onA} on A, ${r.onB} on B); kill -9 C → 2 copies of each ${Math.round(r.healMs)} ms (${Math.round(r.healMs - GRACE_MS)} ms after the ${GRACE} grace); cp -r ${Math.round(r.cpMs)} ms, cp -r + sync ${Math.round(r.cpSyncMs)} ms`,
    )
  }
  return { config: { ...config, grace: GRACE, replicas: 2, members: 3 }, runs }
}

/** @param {Parameters<typeof measureHeal>[0]} config */
async function oneRun(config) {
  const names = Array.from({ length: config.count }, (_, i) => `f${String(i).padStart(4, '0')}.bin`)
  const cluster = await startCluster({
    names: ['A', 'B', 'C'],
    prefix: 'heal',
    nodeArgs: config.serverNodeArgs ?? [],
    extraArgs: ['--replicas', '2', '--rereplicate-after', GRACE, '--peer-timeout', '2s'],
    argsFor: () => ['--no-http'],
  })
  const copy = tempDir('tandem-bench-heal-cp-')
  try {
    const [a, b, c] = /** @type {import('./lib/cluster.mjs').ClusterServer[]} */ (cluster)
    if (!a || !b || !c) throw new Error('three servers expected')
    await whileAlive(cluster, linked(cluster))
    // Random content, a different first block in each file (no two alike: nothing deduplicated).
    const body = randomFillSync(Buffer.alloc(config.size))
    mkdirSync(path.join(c.root, FOLDER))
    for (const [i, name] of names.entries()) {
      body.writeUInt32BE(i, 0)
      writeFileSync(path.join(c.root, FOLDER, name), body)
    }
    const size = config.size
    // Placed: every file on C and its second copy on exactly one of A and B (K = 2 of 3: surplus
    // copies of the first moments dropped by the rebalancer).
    await whileAlive(
      cluster,
      until(
        () =>
          held(c.root, names, size) === names.length &&
          names.every((n) => held(a.root, [n], size) + held(b.root, [n], size) === 1),
        performance.now(),
        config.timeoutMs,
        'second copies on exactly one of A and B',
      ),
    )
    const onA = held(a.root, names, size)
    const onB = held(b.root, names, size)
    const killedAt = performance.now()
    process.kill(c.pid, 'SIGKILL')
    const healMs = await whileAlive(
      [a, b],
      until(
        () =>
          held(a.root, names, size) === names.length && held(b.root, names, size) === names.length,
        killedAt,
        config.timeoutMs,
        'heal',
      ),
    )
    // The baseline: the same 1,000 files from C's directory (still on disk) into a fresh one.
    const source = path.join(c.root, FOLDER)
    execFileSync('sync')
    let t = performance.now()
    execFileSync('cp', ['-r', source, path.join(copy, 'plain')])
    const cpMs = performance.now() - t
    execFileSync('sync')
    t = performance.now()
    execFileSync('cp', ['-r', source, path.join(copy, 'synced')])
    execFileSync('sync')
    const cpSyncMs = performance.now() - t
    if (readdirSync(path.join(copy, 'plain')).length !== names.length)
      throw new Error('cp -r copied another count')
    return { onA, onB, healMs, cpMs, cpSyncMs }
  } finally {
    await stopCluster(cluster)
    rmSync(copy, { recursive: true, force: true })
  }
}

/** Every server has said both others joined. @param {import('./lib/cluster.mjs').ClusterServer[]} servers */
async function linked(servers) {
  const since = performance.now()
  await until(
    () =>
      servers.every((s) =>
        servers
          .filter((o) => o !== s)
          .every((o) => s.lines.some(([, line]) => line.includes(`member ${o.name} joined`))),
      ),
    since,
    30_000,
    'links up',
  )
}

/**
 * The table's rows: heal time from the kill, and after the grace, next to `cp -r` of the same
 * data (and `cp -r` + `sync`: tandem fsyncs every file it copies).
 * @param {{ runs: any[], config: any }} h @returns {import('./lib/summary.mjs').Row[]}
 */
export function healRows(h) {
  const med = (/** @type {(r: any) => number} */ f) => round(median(h.runs.map(f)))
  const n = `${h.config.count} × ${h.config.size / 1024} KiB`
  const cp = { baseline: med((r) => r.cpMs), baselineName: 'cp -r', target: 'report' }
  return [
    row(
      `heal: member with ${n} lost, kill -9 → 2 copies`,
      'ms',
      med((r) => r.healMs),
      cp,
    ),
    row(
      `  after the --rereplicate-after ${GRACE} grace`,
      'ms',
      med((r) => r.healMs - GRACE_MS),
      cp,
    ),
    row(
      `  after the grace, vs cp -r + sync`,
      'ms',
      med((r) => r.healMs - GRACE_MS),
      {
        baseline: med((r) => r.cpSyncMs),
        baselineName: 'cp -r + sync',
        target: 'report',
      },
    ),
  ]
}
