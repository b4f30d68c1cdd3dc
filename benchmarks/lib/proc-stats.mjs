/**
 * What a process costs, read from /proc (Linux): resident memory (VmRSS, and its high-water mark
 * VmHWM) and CPU time per thread (utime + stime). The main thread of a Node process has the
 * process's pid as its thread id; every other thread (worker threads, libuv's pool, V8's helpers)
 * is counted as "other", since Node gives them all the same name.
 */
import { performance } from 'node:perf_hooks'
import { execFileSync } from 'node:child_process'
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  } catch {
    return 100
  }
})()

/** VmRSS and VmHWM in KiB. @param {number} pid */
export function memoryKiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const field = (/** @type {string} */ name) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN)
  return { rss: field('VmRSS'), hwm: field('VmHWM') }
}

/**
 * Reset VmHWM to the current RSS, so that it measures one phase (Linux ≥ 4.0, own processes).
 * @param {number} pid @returns {boolean} whether it worked
 */
export function resetPeak(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5')
    return true
  } catch {
    return false
  }
}

/** utime and stime in seconds from a /proc/.../stat line. @param {string} stat */
function cpuSeconds(stat) {
  // The command name is in parentheses and may hold spaces: split after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return { user: Number(rest[11]) / CLK_TCK, system: Number(rest[12]) / CLK_TCK }
}

/**
 * CPU seconds of the children that `pid` has waited for (cutime + cstime of /proc/PID/stat): each
 * reaped child's own time plus that of every descendant it reaped in turn. A child still running
 * counts nothing yet. `pid` 'self' is this benchmark process: Node reaps a child (waitpid) before
 * it emits 'exit', so a reading around a spawn and its 'exit' holds exactly that child's CPU, as
 * long as no other child exits in between.
 * @param {number | 'self'} pid
 */
export function reapedChildrenCpuSec(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(rest[13]) + Number(rest[14])) / CLK_TCK
}

/** utime + stime of the process `pid` itself (all its threads), in seconds. @param {number} pid */
export function ownCpuSec(pid) {
  const { user, system } = cpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  return user + system
}

/**
 * The pids of the live children of `pid` (a single-threaded parent: its main thread's
 * /proc/PID/task/PID/children; a process that has exited but is not reaped yet still counts).
 * @param {number} pid @returns {number[]}
 */
export function childPids(pid) {
  const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim()
  return text === '' ? [] : text.split(/\s+/).map(Number)
}

/** CPU seconds used so far: the whole process (user, kernel), and its main thread. @param {number} pid */
export function cpuTimes(pid) {
  const { user, system } = cpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  const main = cpuSeconds(readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8'))
  return {
    user,
    system,
    main: main.user + main.system,
    threads: readdirSync(`/proc/${pid}/task`).length,
  }
}

/** CPU used between two cpuTimes() readings. */
export function cpuDelta(
  /** @type {ReturnType<typeof cpuTimes>} */ before,
  /** @type {ReturnType<typeof cpuTimes>} */ after,
) {
  const user = after.user - before.user
  const system = after.system - before.system
  const main = after.main - before.main
  return {
    totalSec: round(user + system),
    userSec: round(user),
    kernelSec: round(system),
    mainThreadSec: round(main),
    otherThreadsSec: round(user + system - main),
    threads: after.threads,
  }
}

/** Jiffies of the whole machine so far: busy and total (all cores), from /proc/stat. */
export function machineCpu() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? ''
  const ticks = line.trim().split(/\s+/).slice(1).map(Number)
  const total = ticks.reduce((sum, t) => sum + t, 0)
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0) // idle + iowait
  return { busy: total - idle, total }
}

/**
 * How busy all cores were between two machineCpu() readings, in % of every core (100 = all busy),
 * and in core-seconds: compare with what the server and clients used to see the rest (other work).
 */
export function machineBusy(
  /** @type {ReturnType<typeof machineCpu>} */ before,
  /** @type {ReturnType<typeof machineCpu>} */ after,
) {
  const total = after.total - before.total
  const busy = after.busy - before.busy
  return {
    busyPct: total > 0 ? round((busy / total) * 100, 1) : NaN,
    busyCoreSec: round(busy / CLK_TCK),
  }
}

/**
 * Samples a process's VmRSS every `intervalMs` while a phase runs, after resetting its VmHWM. The
 * peak is the larger of the highest sample and VmHWM (which also catches spikes between samples).
 */
export class MemorySampler {
  /** @param {number} pid */
  constructor(pid, intervalMs = 50) {
    this.pid = pid
    this.intervalMs = intervalMs
    /** @type {[number, number][]} [ms since start, RSS KiB] */
    this.samples = []
    this.t0 = 0
    /** @type {NodeJS.Timeout | undefined} */
    this.timer = undefined
    this.peakReset = false
  }

  start() {
    this.peakReset = resetPeak(this.pid)
    this.t0 = performance.now()
    this.#sample()
    this.timer = setInterval(() => this.#sample(), this.intervalMs)
  }

  /** @returns {{peakRssMiB: number, hwmMiB: number | null, samples: [number, number][]}} */
  stop() {
    clearInterval(this.timer)
    this.#sample()
    const peakKiB = Math.max(...this.samples.map(([, rss]) => rss))
    const hwm = this.peakReset ? memoryKiB(this.pid).hwm : NaN
    return {
      peakRssMiB: round(Math.max(peakKiB, Number.isNaN(hwm) ? 0 : hwm) / 1024),
      hwmMiB: Number.isNaN(hwm) ? null : round(hwm / 1024),
      samples: this.samples,
    }
  }

  #sample() {
    try {
      this.samples.push([Math.round(performance.now() - this.t0), memoryKiB(this.pid).rss])
    } catch {
      // the process is gone; the caller will learn it from the transfer failing
    }
  }
}

/** @param {number} x */
function round(x, digits = 3) {
  const f = 10 ** digits
  return Math.round(x * f) / f
}
