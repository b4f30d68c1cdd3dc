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
import { startCluster, stopCluster, whileAlive } from './lib/cluster.mjs'
import { writeRandomFile, writeSmallFiles } from './lib/data-files.mjs'
import { measureCopy, waitIdle } from './lib/mirror-copy.mjs'
import { measureLatency } from './lib/mirror-latency.mjs'
import { hashFd, waitContent, waitGone } from './lib/mirror-wait.mjs'
import { memoryKiB } from './lib/proc-stats.mjs'
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

/** How long the linked servers stay idle before their settled RSS is read. */
const SETTLED_IDLE_MS = 15_000

/** @param {MirrorConfig} config @param {ReturnType<typeof prepareData>} data @param {number} run @param {(line: string) => void} log */
async function oneRun(config, data, run, log) {
  const tag = `  run ${run + 1}/${config.runs}`
  const cluster = await startCluster({ nodeArgs: config.serverNodeArgs })
  const [a, b] = /** @type {[Server, Server]} */ (cluster)
  /** @type {Record<string, any>} */
  const result = { run: run + 1, servers: cluster.map((s) => s.command.join(' ')), rss: [] }
  // Each server's RSS and VmHWM (MiB) after each phase: where the memory of the last rows came from.
  const rssAfter = (/** @type {string} */ phase) =>
    result.rss.push({ after: phase, ...rssOf(a, 'A'), ...rssOf(b, 'B') })
  try {
    rssAfter('start')
    result.ready = await whileAlive(cluster, waitMirroring(a, b))
    rssAfter('link')
    log(`${tag}  linked after ${result.ready.firstLinkSec.toFixed(2)} s`)
    result.idleBeforeLatency = await whileAlive(cluster, waitIdle(a, b))
    rssAfter('link-idle')
    // And once idle for a while: V8 shrinks an idle thread's heap (its memory reducer) about ten
    // seconds after the allocations stop; this is what an idle server holds.
    await whileAlive(cluster, new Promise((resolve) => setTimeout(resolve, SETTLED_IDLE_MS)))
    rssAfter('link-settled')
    result.latency = await whileAlive(cluster, measureLatency(a, b, config, log, tag))
    rssAfter('latency')
    const cpFirst = run % 2 === 0
    result.initial = {}
    for (const [kind, src, files, wait] of /** @type {const} */ ([
      ['small', data.smallDir, data.small, 'tree'],
      ['big', data.bigFile, null, 'big'],
      ['many', data.manyDir, data.many, 'tree'],
    ])) {
      const s = await whileAlive(
        cluster,
        measureCopy(a, b, {
          kind,
          src,
          dest: `${kind}-r${run + 1}${kind === 'big' ? '.bin' : ''}`,
          files,
          big: kind === 'big' ? { size: config.bigSize, sha256: data.big.sha256 } : null,
          wait,
          cpFirst,
          sampleMemory: kind === 'many',
        }),
      )
      const { memory, ...sample } = s
      result.initial[kind] = sample
      if (memory) result.memory = memory
      rssAfter(kind)
      log(
        `${tag}  initial mirror ${kind.padEnd(5)} ${fmtSec(s.tandem.fromCopyEndSec)} s after cp ended (${fmtSec(s.tandem.fromCopyStartSec)} s after it started; local cp ${fmtSec(s.cp.sec)} s)${s.tandem.timedOut ? '  TIMED OUT' : ''}`,
      )
      const p = s.tandem.progress
      if (p)
        log(
          `${tag}    after cp started: A indexed all at ${p.aIndexedAllSec} s; B's pulls logged ${p.bFirstLineSec}–${p.bLastLineSec} s (${p.bLines} lines); CPU A ${s.tandem.cpu.A.totalSec} s, B ${s.tandem.cpu.B.totalSec} s`,
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

/** @param {Server} s @param {string} name */
function rssOf(s, name) {
  const { rss, hwm } = memoryKiB(s.pid)
  return { [`${name}rssMiB`]: round(rss / 1024, 1), [`${name}hwmMiB`]: round(hwm / 1024, 1) }
}

const fmtSec = (/** @type {number} */ s) => (Number.isFinite(s) ? s.toFixed(3) : '—')

/**
 * Wait until A → B and B → A both carry a file (this is what "the link is up" means here), then
 * remove B's probe on A and wait for B to see that too. Times are from the call.
 * @param {Server} a @param {Server} b
 */
async function waitMirroring(a, b) {
  const t0 = performance.now()
  // keep.txt stays for the whole run: a tree that deletes leave empty would look like an emptied
  // data directory, which tandem rightly refuses to propagate.
  const keep = randomBytes(64)
  writeFileSync(path.join(a.root, 'keep.txt'), keep)
  const ab = await waitContent(path.join(b.root, 'keep.txt'), keep, null, READY_TIMEOUT_MS)
  if (ab.timedOut) throw new Error(`A's first file did not reach B within ${READY_TIMEOUT_MS} ms`)
  const probe = randomBytes(64)
  mkdirSync(path.join(b.root, 'probe'))
  writeFileSync(path.join(b.root, 'probe', 'from-b.txt'), probe)
  const ba = await waitContent(path.join(a.root, 'probe', 'from-b.txt'), probe, null, 10_000)
  if (ba.timedOut) throw new Error("B's probe did not reach A within 10 s")
  rmSync(path.join(a.root, 'probe', 'from-b.txt'))
  const gone = await waitGone(path.join(b.root, 'probe', 'from-b.txt'))
  if (gone.timedOut) throw new Error('removing the probe on A did not reach B within 10 s')
  return {
    firstLinkSec: round((ab.done - t0) / 1000, 3),
    backSec: round((ba.done - ab.done) / 1000, 3),
    probesGoneSec: round((gone.done - ba.done) / 1000, 3),
  }
}
