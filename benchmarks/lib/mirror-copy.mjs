/**
 * One initial-mirror sample: `cp` (a real other program) copies a folder or a big file into server
 * A's directory while the benchmark watches B's directory for the complete, identical result. The
 * same cp into a plain local directory, in the same run, gives the floor. What each server spent
 * (CPU, and with `sampleMemory` its RSS) is read from /proc around the sample.
 */
import { execFileSync } from 'node:child_process'
import { once } from 'node:events'
import { rmSync } from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { spawnTracked, tempDir } from './children.mjs'
import { startProgress } from './mirror-progress.mjs'
import { waitBigFile, waitTree } from './mirror-wait.mjs'
import {
  MemorySampler,
  cpuDelta,
  cpuTimes,
  machineBusy,
  machineCpu,
  memoryKiB,
} from './proc-stats.mjs'
import { round } from './stats.mjs'

/** @typedef {import('./cluster.mjs').ClusterServer} Server */

// TANDEM_BENCH_DIAGNOSE=1: also follow both servers' index counts during each sample (see
// mirror-progress.mjs). Off by default: its client connections cost the servers a little CPU and
// may start a session thread, which would blur the memory rows.
const DIAGNOSE = process.env.TANDEM_BENCH_DIAGNOSE === '1'
const TIMEOUT_MS = { small: 60_000, big: 120_000, many: 300_000 }
const IDLE_CPU_SEC = 0.05 // both servers together, per IDLE_STEP_MS: "idle" means under 5 % of a core
const IDLE_STEP_MS = 500
const IDLE_TIMEOUT_MS = 20_000

const sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * `cp -r SRC DEST`: seconds from spawn to exit.
 * @param {string} src @param {string} dest
 */
async function timeCp(src, dest) {
  const t0 = performance.now()
  const proc = spawnTracked('cp', ['-r', src, dest])
  const [code] = await once(proc.child, 'exit')
  const end = performance.now()
  if (code !== 0) throw new Error(`cp ${src} ${dest} exited ${code}: ${proc.output.text}`)
  return { t0, end, sec: round((end - t0) / 1000, 4) }
}

/**
 * @typedef {{ kind: 'small' | 'big' | 'many', src: string, dest: string,
 *   files: { name: string, data: Buffer }[] | null, big: { size: number, sha256: string } | null,
 *   wait: 'tree' | 'big', cpFirst: boolean, sampleMemory: boolean }} CopyOptions
 */

/** @param {Server} a @param {Server} b @param {CopyOptions} opts */
export async function measureCopy(a, b, opts) {
  const local = tempDir('tandem-bench-mirror-cp-')
  const localCp = async () => {
    execFileSync('sync')
    const { sec } = await timeCp(opts.src, path.join(local, opts.dest))
    return { sec }
  }
  try {
    // Start from quiet servers: the previous sample's tail (B's watcher seeing what it pulled)
    // would otherwise be billed to this one, and would slow the local cp as well.
    const idleBefore = await waitIdle(a, b)
    const cpBefore = opts.cpFirst ? await localCp() : null
    execFileSync('sync')
    const { tandem, memory } = await mirrorCopy(a, b, opts)
    const cp = cpBefore ?? (await localCp())
    return { idleBefore, cp, tandem, ...(memory ? { memory } : {}) }
  } finally {
    rmSync(local, { recursive: true, force: true })
  }
}

/** @param {Server} a @param {Server} b @param {CopyOptions} opts */
async function mirrorCopy(a, b, opts) {
  const progress = DIAGNOSE ? await startProgress(a, b) : null
  const before = { A: cpuTimes(a.pid), B: cpuTimes(b.pid), machine: machineCpu() }
  const self = process.cpuUsage()
  const memory = opts.sampleMemory ? startMemory(a, b) : null
  const target = path.join(b.root, opts.dest)
  const timeoutMs = TIMEOUT_MS[opts.kind]
  // The watch starts before cp, so that nothing B does is missed; its first poll finds nothing.
  const waiting =
    opts.wait === 'big' && opts.big
      ? waitBigFile(target, opts.big.size, opts.big.sha256, { timeoutMs })
      : waitTree(target, opts.files ?? [], {
          // Listing 10,000 names takes milliseconds: poll less often there, to leave the cores free.
          intervalMs: (opts.files?.length ?? 0) > 2000 ? 20 : 5,
          timeoutMs,
        })
  const copy = await timeCp(opts.src, path.join(a.root, opts.dest))
  const w = await waiting
  const sinceEnd = (/** @type {number | null} */ t) =>
    t === null ? null : round((t - copy.end) / 1000, 4)
  const sinceStart = (/** @type {number | null} */ t) =>
    t === null ? null : round((t - copy.t0) / 1000, 4)
  const selfCpu = process.cpuUsage(self)
  const cpuAtDone = { A: cpuTimes(a.pid), B: cpuTimes(b.pid) }
  const tandem = {
    timedOut: w.timedOut,
    fromCopyEndSec: w.timedOut ? Infinity : sinceEnd(w.done),
    fromCopyStartSec: w.timedOut ? Infinity : sinceStart(w.done),
    copySec: copy.sec,
    firstOnBSec: sinceStart(w.first),
    polls: w.polls,
    cpu: {
      A: cpuDelta(before.A, cpuAtDone.A),
      B: cpuDelta(before.B, cpuAtDone.B),
      benchSec: round((selfCpu.user + selfCpu.system) / 1e6, 3),
    },
    machine: machineBusy(before.machine, machineCpu()),
  }
  const needle = opts.files ? `${opts.dest}/` : opts.dest
  if (progress)
    Object.assign(tandem, {
      progress: await progress.finish(copy.t0, opts.files?.length ?? 1, needle),
    })
  // What the copy cost each server in all: from cp's start until both are idle again (B's watcher
  // noticing what it pulled comes after B holds the files, and is part of the price).
  const memoryOut = memory ? await memory.finish() : null
  const settle = memoryOut
    ? { sec: memoryOut.idleAfterSec, idle: memoryOut.wentIdle }
    : await waitIdle(a, b)
  Object.assign(tandem, {
    cpuUntilIdle: {
      A: cpuDelta(before.A, cpuTimes(a.pid)),
      B: cpuDelta(before.B, cpuTimes(b.pid)),
      idleAfterSec: settle.sec,
      wentIdle: settle.idle,
    },
  })
  return { tandem, memory: memoryOut }
}

/**
 * Sample both servers' RSS from now on (VmHWM reset first; the lifetime peak before that is kept).
 * `finish()` takes the peak, the RSS at once, and the RSS once both servers have gone idle.
 * @param {Server} a @param {Server} b
 */
function startMemory(a, b) {
  const servers = { A: a, B: b }
  const lifetimeHwmKiB = { A: memoryKiB(a.pid).hwm, B: memoryKiB(b.pid).hwm }
  const samplers = { A: new MemorySampler(a.pid), B: new MemorySampler(b.pid) }
  samplers.A.start()
  samplers.B.start()
  return {
    async finish() {
      const atDone = { A: memoryKiB(a.pid).rss, B: memoryKiB(b.pid).rss }
      const idle = await waitIdle(a, b)
      /** @type {Record<string, any>} */
      const out = { idleAfterSec: idle.sec, wentIdle: idle.idle }
      for (const name of /** @type {const} */ (['A', 'B'])) {
        const peak = samplers[name].stop()
        out[name] = {
          peakRssMiB: peak.peakRssMiB,
          hwmMiB: peak.hwmMiB,
          atDoneRssMiB: round(atDone[name] / 1024, 1),
          idleRssMiB: round(memoryKiB(servers[name].pid).rss / 1024, 1),
          lifetimeHwmBeforeMiB: round(lifetimeHwmKiB[name] / 1024, 1),
          samples: peak.samples,
        }
      }
      return out
    },
  }
}

/**
 * Wait until the servers together (both of a pair, or one) use under IDLE_CPU_SEC per
 * IDLE_STEP_MS (or give up).
 * @param {...{ pid: number }} servers
 */
export async function waitIdle(...servers) {
  const t0 = performance.now()
  const used = () =>
    servers.reduce((sum, s) => {
      const x = cpuTimes(s.pid)
      return sum + x.user + x.system
    }, 0)
  let last = used()
  while (performance.now() - t0 < IDLE_TIMEOUT_MS) {
    await sleep(IDLE_STEP_MS)
    const now = used()
    if (now - last < IDLE_CPU_SEC)
      return { idle: true, sec: round((performance.now() - t0) / 1000, 2) }
    last = now
  }
  return { idle: false, sec: round((performance.now() - t0) / 1000, 2) }
}
