/**
 * Question 3: how fast does a change made directly on server A's disk (by another program, not
 * through tandem) show up, identical, on server B? Two real `tandem serve` processes, each the
 * other's --peer, fresh ones for every run. Per run:
 *   1. latency: create, modify, rename and delete of a small file, one at a time, each timed from
 *      just before the change on A until B's directory shows exactly the result;
 *   2. initial mirror: `cp -r` of many small files, then `cp` of one big file, into A's directory:
 *      time until B holds all of it, from when cp exited and from when it started, next to the same
 *      cp into a plain local directory;
 *   3. memory: `cp -r` of 10,000 small files, then both servers' peak and idle RSS.
 * Every wait has a deadline. See README.md, "Mirroring between servers".
 */
import { randomFillSync } from 'node:crypto'
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { tempDir } from './lib/children.mjs'
import { startCluster, stopCluster } from './lib/cluster.mjs'
import { writeRandomFile, writeSmallFiles } from './lib/data-files.mjs'
import { measureCopy, waitIdle } from './lib/mirror-copy.mjs'
import { measureLatency } from './lib/mirror-latency.mjs'
import { hashFd, waitContent, waitGone } from './lib/mirror-wait.mjs'
import { round } from './lib/stats.mjs'

/**
 * @typedef {{ runs: number, trials: number, latencySize: number, smallCount: number,
 *   smallSize: number, bigSize: number, manyCount: number, manySize: number,
 *   serverNodeArgs: string[], opTimeoutMs: number }} MirrorConfig
 * @typedef {import('./lib/cluster.mjs').ClusterServer} Server
 */

const READY_TIMEOUT_MS = 60_000 // first link: both servers start, then dial each other with backoff
const randomBytes = (/** @type {number} */ n) => randomFillSync(Buffer.allocUnsafe(n))

/** @param {MirrorConfig} config @param {(line: string) => void} log */
export async function measureMirror(config, log) {
  const data = prepareData(config)
  const runs = []
  for (let run = 0; run < config.runs; run++) runs.push(await oneRun(config, data, run, log))
  const sources = { smallDir: data.smallDir, manyDir: data.manyDir, bigFile: data.bigFile }
  return { config, sources, bigSha256: data.big.sha256, runs }
}

/** The data copied into A, made once per run set (random bytes, see data-files.mjs). */
function prepareData(/** @type {MirrorConfig} */ config) {
  const base = tempDir('tandem-bench-mirror-src-')
  const smallDir = path.join(base, 'small')
  const manyDir = path.join(base, 'many')
  const bigFile = path.join(base, 'big.bin')
  const small = writeSmallFiles(smallDir, config.smallCount, config.smallSize)
  const many = writeSmallFiles(manyDir, config.manyCount, config.manySize)
  writeRandomFile(bigFile, config.bigSize)
  const fd = openSync(bigFile, 'r')
  const sha256 = hashFd(fd)
  closeSync(fd)
  return { smallDir, manyDir, bigFile, small, many, big: { sha256 } }
}

/** @param {MirrorConfig} config @param {ReturnType<typeof prepareData>} data @param {number} run @param {(line: string) => void} log */
async function oneRun(config, data, run, log) {
  const tag = `  run ${run + 1}/${config.runs}`
  const cluster = await startCluster({ nodeArgs: config.serverNodeArgs })
  const [a, b] = /** @type {[Server, Server]} */ (cluster)
  /** @type {Record<string, any>} */
  const result = { run: run + 1, servers: cluster.map((s) => s.command.join(' ')) }
  try {
    result.ready = await waitMirroring(a, b)
    log(`${tag}  linked after ${result.ready.firstLinkSec.toFixed(2)} s`)
    result.idleBeforeLatency = await waitIdle(a, b)
    result.latency = await measureLatency(a, b, config, log, tag)
    const cpFirst = run % 2 === 0
    result.initial = {}
    for (const [kind, src, files, wait] of /** @type {const} */ ([
      ['small', data.smallDir, data.small, 'tree'],
      ['big', data.bigFile, null, 'big'],
      ['many', data.manyDir, data.many, 'tree'],
    ])) {
      const s = await measureCopy(a, b, {
        kind,
        src,
        dest: `${kind}-r${run + 1}${kind === 'big' ? '.bin' : ''}`,
        files,
        big: kind === 'big' ? { size: config.bigSize, sha256: data.big.sha256 } : null,
        wait,
        cpFirst,
        sampleMemory: kind === 'many',
      })
      const { memory, ...sample } = s
      result.initial[kind] = sample
      if (memory) result.memory = memory
      log(
        `${tag}  initial mirror ${kind.padEnd(5)} ${fmtSec(s.tandem.fromCopyEndSec)} s after cp ended (${fmtSec(s.tandem.fromCopyStartSec)} s after it started; local cp ${fmtSec(s.cp.sec)} s)${s.tandem.timedOut ? '  TIMED OUT' : ''}`,
      )
    }
    const m = result.memory
    const mib = (/** @type {number} */ x) => x.toFixed(0)
    if (m)
      log(
        `${tag}  RSS with ${config.manyCount} files: A peak ${mib(m.A.peakRssMiB)} / idle ${mib(m.A.idleRssMiB)} MiB, B peak ${mib(m.B.peakRssMiB)} / idle ${mib(m.B.idleRssMiB)} MiB`,
      )
  } catch (err) {
    log(
      `${tag}  failed; server A said:\n${a.output().slice(-3000)}\nserver B said:\n${b.output().slice(-3000)}`,
    )
    throw err
  } finally {
    result.exitCodes = await stopCluster(cluster)
  }
  if (Object.values(result.exitCodes).some((code) => code !== 0))
    log(`${tag}  note: server exit codes ${JSON.stringify(result.exitCodes)} (expected 0)`)
  return result
}

const fmtSec = (/** @type {number} */ s) => (Number.isFinite(s) ? s.toFixed(3) : '—')

/**
 * Wait until A → B and B → A both carry a file (this is what "the link is up" means here), then
 * remove the probes and wait for that too. Times are from the call.
 * @param {Server} a @param {Server} b
 */
async function waitMirroring(a, b) {
  const t0 = performance.now()
  mkdirSync(path.join(a.root, 'probe'), { recursive: true })
  const probeA = randomBytes(64)
  writeFileSync(path.join(a.root, 'probe', 'from-a.txt'), probeA)
  const ab = await waitContent(
    path.join(b.root, 'probe', 'from-a.txt'),
    probeA,
    null,
    READY_TIMEOUT_MS,
  )
  if (ab.timedOut) throw new Error(`A's probe did not reach B within ${READY_TIMEOUT_MS} ms`)
  const probeB = randomBytes(64)
  writeFileSync(path.join(b.root, 'probe', 'from-b.txt'), probeB)
  const ba = await waitContent(path.join(a.root, 'probe', 'from-b.txt'), probeB, null, 10_000)
  if (ba.timedOut) throw new Error("B's probe did not reach A within 10 s")
  rmSync(path.join(a.root, 'probe'), { recursive: true })
  const gone = await waitGone(path.join(b.root, 'probe', 'from-b.txt'))
  if (gone.timedOut) throw new Error("removing A's probe folder did not reach B within 10 s")
  return {
    firstLinkSec: round((ab.done - t0) / 1000, 3),
    backSec: round((ba.done - ab.done) / 1000, 3),
    probesGoneSec: round((gone.done - ba.done) / 1000, 3),
  }
}
