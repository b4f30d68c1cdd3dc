/**
 * Mirroring latency: one small file created, modified, renamed and deleted directly in server A's
 * directory (synchronous fs calls, as another program would), each step timed until B's directory
 * shows exactly the result (see mirror-wait.mjs). A console line naming the file is noted per
 * server, to see where a slow step spent its time.
 */
import { randomFillSync } from 'node:crypto'
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { firstLineAfter } from './cluster.mjs'
import { OPS, percentile } from './mirror-rows.mjs'
import { waitContent, waitGone, waitRenamed } from './mirror-wait.mjs'
import { round } from './stats.mjs'

/** @typedef {import('./cluster.mjs').ClusterServer} Server */
/** @typedef {{ trials: number, latencySize: number, opTimeoutMs: number }} LatencyConfig */

const MAX_TIMEOUTS_PER_RUN = 3 // then the latency phase of that run gives up
const sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms))
const randomBytes = (/** @type {number} */ n) => randomFillSync(Buffer.allocUnsafe(n))

/**
 * One unrecorded trial, then `trials` recorded ones. Each trial creates a file on A, modifies it,
 * renames it and deletes it; each step waits for B to show the result, then pauses 50–150 ms
 * (random, so that the steps do not fall in step with any periodic timer of the server) before
 * the next.
 * @param {Server} a @param {Server} b @param {LatencyConfig} config
 * @param {(line: string) => void} log @param {string} tag
 */
export async function measureLatency(a, b, config, log, tag) {
  mkdirSync(path.join(a.root, 'latency'))
  const trials = []
  let timeouts = 0
  for (let i = -1; i < config.trials && timeouts < MAX_TIMEOUTS_PER_RUN; i++) {
    const trial = await latencyTrial(a, b, i < 0 ? 'warm-up' : `t${i}`, config)
    if (i < 0) continue
    trials.push(trial)
    timeouts += OPS.filter((op) => trial[op]?.timedOut).length
  }
  if (timeouts >= MAX_TIMEOUTS_PER_RUN)
    log(`${tag}  latency: ${timeouts} timeouts, phase cut short`)
  /** @type {Record<string, any>} */
  const summary = {}
  for (const op of OPS) {
    const ms = trials.filter((t) => t[op]).map((t) => (t[op].timedOut ? Infinity : t[op].ms))
    summary[op] = {
      n: ms.length,
      timeouts: ms.filter((x) => x === Infinity).length,
      p50Ms: percentile(ms, 0.5),
      p99Ms: percentile(ms, 0.99),
      maxMs: percentile(ms, 1),
    }
    const s = summary[op]
    log(
      `${tag}  latency ${op.padEnd(6)} p50 ${s.p50Ms.toFixed(1).padStart(7)} ms  p99 ${s.p99Ms.toFixed(1).padStart(7)} ms  max ${s.maxMs.toFixed(1).padStart(7)} ms  (${s.n} trials${s.timeouts ? `, ${s.timeouts} timed out` : ''})`,
    )
  }
  return { summary, trials }
}

/** @param {Server} a @param {Server} b @param {string} id @param {LatencyConfig} config */
async function latencyTrial(a, b, id, config) {
  const name = `latency/${id}.txt`
  const renamed = `latency/${id}-renamed.txt`
  const onA = (/** @type {string} */ n) => path.join(a.root, n)
  const onB = (/** @type {string} */ n) => path.join(b.root, n)
  const t = config.opTimeoutMs
  /** @type {Record<string, any>} */
  const trial = { id }
  let content = randomBytes(config.latencySize)
  const steps = [
    () =>
      timed(
        'create',
        name,
        () => writeFileSync(onA(name), content),
        () => waitContent(onB(name), content, null, t),
      ),
    () => {
      const before = content
      content = randomBytes(config.latencySize)
      return timed(
        'modify',
        name,
        () => writeFileSync(onA(name), content),
        () => waitContent(onB(name), content, before, t),
      )
    },
    () =>
      timed(
        'rename',
        renamed,
        () => renameSync(onA(name), onA(renamed)),
        () => waitRenamed(onB(name), onB(renamed), content, t),
      ),
    () =>
      timed(
        'delete',
        renamed,
        () => rmSync(onA(renamed)),
        () => waitGone(onB(renamed), t),
      ),
  ]
  for (const step of steps) {
    const { t0, name: needle, ...s } = await step()
    trial[s.op] = s
    if (!s.timedOut) await sleep(50 + Math.random() * 100)
    // A server prints after it acts, so its line may reach us after B's file did: look now.
    s.consoleA = firstLineAfter(a, t0, needle)
    s.consoleB = firstLineAfter(b, t0, needle)
    if (s.timedOut) break
  }
  return trial
}

/**
 * Make a change on A (synchronously, as a program writing the directory would), then wait for B.
 * `firstMs` is when B first showed any part of the change.
 * @param {string} op @param {string} name (relative to the root)
 * @param {() => void} change @param {() => Promise<import('./mirror-wait.mjs').WaitResult>} wait
 */
async function timed(op, name, change, wait) {
  const t0 = performance.now()
  change()
  const written = performance.now()
  const w = await wait()
  return {
    op,
    ms: round(w.done - t0, 2),
    firstMs: w.first === null ? null : round(w.first - t0, 2),
    changeMs: round(written - t0, 3),
    polls: w.polls,
    timedOut: w.timedOut,
    t0,
    name,
  }
}
