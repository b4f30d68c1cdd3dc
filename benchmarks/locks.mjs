/**
 * Question 4: what do user locks cost? Two real `tandem serve` processes A and B, each the other's
 * --peer, fresh ones for every run, and one protocol client at A (a child process using the client
 * library from dist/, see lib/lock-client.mjs). Per run:
 *   1. round trips: `lock` of an existing file and `unlock` with nothing queued, by index as
 *      `tandem lock 3` sends them, next to `ping` and `stat` on the same connection (the baseline);
 *   2. an unlock that applies 100 queued updates: the file is locked at A and changed 100 times on
 *      B's disk, each change waited for until A's listing counts it queued; then the unlock's round
 *      trip is timed. Next to it, the same 100 changes to a file nobody locked, mirrored by A one
 *      by one (the baseline), and 100 `write`s of one file by the client at A (context).
 * Nothing here has a target: issue 4 asks for the numbers only. See README.md, "User locks".
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { randomFillSync } from 'node:crypto'
import { startCluster, stopCluster, whileAlive } from './lib/cluster.mjs'
import { LockClient } from './lib/lock-remote.mjs'
import {
  REQUESTS,
  clientWrites,
  mirrorChanges,
  queuedUnlock,
  roundTrips,
  spread,
} from './lib/lock-trials.mjs'
import { waitIdle } from './lib/mirror-copy.mjs'
import { waitContent } from './lib/mirror-wait.mjs'
import { median, round } from './lib/stats.mjs'

/**
 * @typedef {{ runs: number, trials: number, warmups: number, updates: number,
 *   queuedTrials: number, updateSize: number, opTimeoutMs: number,
 *   serverNodeArgs: string[] }} LockConfig
 * @typedef {import('./lib/cluster.mjs').ClusterServer} Server
 */

const READY_TIMEOUT_MS = 60_000 // first link: both servers start, then dial each other with backoff
const WARMUP_UPDATES = 5 // one unrecorded queued unlock first, so that no recorded one pays for it
const CLIENT_ID = 'bench-locks'

/** @param {LockConfig} config @param {(line: string) => void} log */
export async function measureLocks(config, log) {
  const runs = []
  for (let run = 0; run < config.runs; run++) runs.push(await oneRun(config, run, log))
  return { config, runs }
}

/** @param {LockConfig} config @param {number} run @param {(line: string) => void} log */
async function oneRun(config, run, log) {
  const tag = `  run ${run + 1}/${config.runs}`
  const cluster = await startCluster({ nodeArgs: config.serverNodeArgs, prefix: 'locks' })
  const [a, b] = /** @type {[Server, Server]} */ (cluster)
  /** @type {Record<string, any>} */
  const result = { run: run + 1, servers: cluster.map((s) => s.command.join(' ')) }
  /** @type {LockClient | null} */
  let client = null
  const alive = (/** @type {Promise<any>} */ p) => whileAlive(cluster, p)
  try {
    result.ready = await alive(waitLinked(a, b))
    log(`${tag}  linked after ${result.ready.firstLinkSec.toFixed(2)} s`)
    client = await alive(LockClient.start(a, CLIENT_ID))
    const c = client
    mkdirSync(path.join(a.root, 'queued'))
    mkdirSync(path.join(a.root, 'mirrored'))
    mkdirSync(path.join(a.root, 'written'))
    await alive(waitIdle(a, b))

    result.roundTrips = await alive(roundTrips(a, b, c, config))
    const s = result.roundTrips.summary
    for (const r of REQUESTS)
      log(
        `${tag}  ${r.padEnd(6)} p50 ${ms(s[r].p50Ms)}  p90 ${ms(s[r].p90Ms)}  max ${ms(s[r].maxMs)}  (${s[r].n} trials)`,
      )

    await alive(queuedUnlock(a, b, c, 'queued/warm-up.txt', WARMUP_UPDATES, config))
    result.queued = []
    result.mirrored = []
    result.written = []
    // Alternate which of the two kinds goes first, so that drift does not always favour one.
    const lockedFirst = run % 2 === 0
    for (let t = 0; t < config.queuedTrials; t++) {
      const id = `r${run + 1}-t${t + 1}`
      const kinds = [
        async () => {
          const q = await alive(queuedUnlock(a, b, c, `queued/${id}.txt`, config.updates, config))
          result.queued.push(q)
          log(
            `${tag}  unlock applying ${q.updates} queued ${ms(q.unlockMs)} (${ms(q.perUpdateMs)} each; queued in ${q.queueSec.toFixed(2)} s, p50 ${ms(q.queueStep.p50Ms)} each)`,
          )
        },
        async () => {
          const m = await alive(mirrorChanges(a, b, `mirrored/${id}.txt`, config.updates, config))
          result.mirrored.push(m)
          log(
            `${tag}  mirror ${m.updates} changes B → A, unlocked ${ms(m.totalMs)} (${ms(m.perUpdateMs)} each; p50 ${ms(m.step.p50Ms)})`,
          )
        },
      ]
      for (const kind of lockedFirst ? kinds : kinds.reverse()) {
        await alive(waitIdle(a, b))
        await kind()
      }
    }
    await alive(waitIdle(a, b))
    for (let t = 0; t < config.queuedTrials; t++) {
      const name = `written/r${run + 1}-t${t + 1}.txt`
      const w = await alive(clientWrites(a, b, c, name, config.updates, config))
      result.written.push(w)
      log(`${tag}  ${w.updates} client writes at A ${ms(w.totalMs)} (${ms(w.perUpdateMs)} each)`)
    }
    result.summary = summarize(result)
  } catch (err) {
    log(
      `${tag}  failed; server A said:\n${a.output().slice(-3000)}\nserver B said:\n${b.output().slice(-3000)}`,
    )
    throw err
  } finally {
    await client?.close()
    result.exitCodes = await stopCluster(cluster)
  }
  if (Object.values(result.exitCodes).some((code) => code !== 0))
    log(`${tag}  note: server exit codes ${JSON.stringify(result.exitCodes)} (expected 0)`)
  return result
}

/** Each run's p50s (the rows take their medians over runs). @param {Record<string, any>} r */
function summarize(r) {
  const med = (/** @type {any[]} */ xs, /** @type {(x: any) => number} */ f) =>
    round(median(xs.map(f)), 3)
  return {
    unlockQueued: spread(r.queued.map((/** @type {any} */ q) => q.unlockMs)),
    queueSec: med(r.queued, (q) => q.queueSec),
    mirrorMs: med(r.mirrored, (m) => m.totalMs),
    mirrorStepP50Ms: med(r.mirrored, (m) => m.step.p50Ms),
    queueStepP50Ms: med(r.queued, (q) => q.queueStep.p50Ms),
    writesMs: med(r.written, (w) => w.totalMs),
  }
}

const ms = (/** @type {number} */ x) => `${x.toFixed(x >= 100 ? 0 : 2).padStart(7)} ms`

/**
 * The link is up once A → B and B → A both carry a file. `keep.txt` stays, so that A's directory
 * never looks emptied. Times are from the call.
 * @param {Server} a @param {Server} b
 */
async function waitLinked(a, b) {
  const t0 = performance.now()
  const keep = randomFillSync(Buffer.allocUnsafe(64))
  writeFileSync(path.join(a.root, 'keep.txt'), keep)
  const ab = await waitContent(path.join(b.root, 'keep.txt'), keep, null, READY_TIMEOUT_MS)
  if (ab.timedOut) throw new Error(`A's first file did not reach B within ${READY_TIMEOUT_MS} ms`)
  const probe = randomFillSync(Buffer.allocUnsafe(64))
  writeFileSync(path.join(b.root, 'probe.txt'), probe)
  const ba = await waitContent(path.join(a.root, 'probe.txt'), probe, null, 10_000)
  if (ba.timedOut) throw new Error("B's probe did not reach A within 10 s")
  return {
    firstLinkSec: round((ab.done - t0) / 1000, 3),
    backSec: round((ba.done - ab.done) / 1000, 3),
  }
}
