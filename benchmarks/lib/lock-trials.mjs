/**
 * The user-lock benchmark's trials, on two linked servers A and B and a client at A (lock-remote):
 *   roundTrips:     ping, stat, lock and unlock (nothing queued) of one existing file, in turn;
 *   queuedUnlock:   lock a file at A, change it 100 times on B's disk (each change waited for until
 *                   A's listing counts it queued), then time the unlock that applies the 100;
 *   mirrorChanges:  the baseline: the same 100 changes on B's disk to a file nobody locked, each
 *                   waited for until A's disk holds it (A mirrors them one by one);
 *   clientWrites:   a second baseline: 100 `write`s of the same file by the client at A.
 * Every wait polls with a deadline; nothing sleeps a fixed time to let the servers catch up.
 */
import { randomFillSync } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { percentile } from './mirror-rows.mjs'
import { waitContent } from './mirror-wait.mjs'
import { median, round } from './stats.mjs'

/** @typedef {import('./cluster.mjs').ClusterServer} Server */
/** @typedef {import('./lock-remote.mjs').LockClient} LockClient */
/**
 * @typedef {{ trials: number, warmups: number, updates: number, queuedTrials: number,
 *   updateSize: number, opTimeoutMs: number }} LockTrialConfig
 */

export const REQUESTS = /** @type {const} */ (['ping', 'stat', 'lock', 'unlock'])

const sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms))
const randomBytes = (/** @type {number} */ n) => randomFillSync(Buffer.allocUnsafe(n))

/** p50 (the median: the mean of the middle two for an even count), p90 and max. @param {number[]} ms */
export function spread(ms) {
  return {
    n: ms.length,
    p50Ms: round(median(ms), 3),
    p90Ms: round(percentile(ms, 0.9), 3),
    maxMs: round(percentile(ms, 1), 3),
  }
}

/**
 * Write `name` on `from`'s disk and wait until `to`'s disk holds it too (the file then exists at
 * both servers, in both indexes).
 * @param {Server} from @param {Server} to @param {string} name @param {Buffer} content
 */
export async function placeMirrored(from, to, name, content, timeoutMs = 10_000) {
  writeFileSync(path.join(from.root, name), content)
  const w = await waitContent(path.join(to.root, name), content, null, timeoutMs)
  if (w.timedOut) throw new Error(`'${name}' written at ${from.name} did not reach ${to.name}`)
}

/**
 * `warmups` unrecorded trials, then `trials` recorded ones; each trial sends ping, stat, lock and
 * unlock of `lock-me.txt` (by index, with the name seen there, as `tandem lock 3` does), one after
 * the other on one connection, then pauses 10–30 ms (random, so that the trials do not fall in
 * step with a timer of the server, and the peer's news of the unlock is not in the next trial).
 * @param {Server} a @param {Server} b @param {LockClient} client @param {LockTrialConfig} config
 */
export async function roundTrips(a, b, client, config) {
  const name = 'lock-me.txt'
  await placeMirrored(a, b, name, randomBytes(config.updateSize))
  const index = await client.call('indexOf', { name })
  const target = { index, expect: name }
  /** @type {Record<string, number>[]} */
  const trials = []
  for (let i = -config.warmups; i < config.trials; i++) {
    /** @type {Record<string, number>} */
    const trial = {}
    trial.ping = (await client.time('ping')).ms
    trial.stat = (await client.time('stat', { name })).ms
    const lock = await client.time('lock', target)
    if (lock.result.name !== name || lock.result.server !== a.name || lock.result.queued !== 0)
      throw new Error(`lock of ${name}: unexpected answer ${JSON.stringify(lock.result)}`)
    trial.lock = lock.ms
    const unlock = await client.time('unlock', target)
    if (unlock.result.applied !== 0)
      throw new Error(`unlock of ${name}: unexpected answer ${JSON.stringify(unlock.result)}`)
    trial.unlock = unlock.ms
    if (i >= 0) trials.push(trial)
    await sleep(10 + Math.random() * 20)
  }
  /** @type {Record<string, any>} */
  const summary = {}
  for (const r of REQUESTS) summary[r] = spread(trials.map((t) => /** @type {number} */ (t[r])))
  return { summary, trials: trials.map((t) => roundAll(t)) }
}

/**
 * Lock `name` at A, make `updates` changes to it on B's disk (distinct random bytes each time),
 * waiting after each until A's listing shows it queued, then time the unlock that applies them.
 * Checks: A's file did not change while locked; the unlock applied every update without a
 * conflict; afterwards A's file holds B's last version, and a further change at B reaches A
 * (mirrored normally again; untimed).
 * @param {Server} a @param {Server} b @param {LockClient} client
 * @param {string} name @param {number} updates @param {LockTrialConfig} config
 */
export async function queuedUnlock(a, b, client, name, updates, config) {
  const original = randomBytes(config.updateSize)
  await placeMirrored(a, b, name, original)
  const index = await client.call('indexOf', { name })
  const target = { index, expect: name }
  const lock = await client.time('lock', target)
  const onB = path.join(b.root, name)
  /** @type {number[]} */
  const stepMs = []
  let content = original
  const t0 = performance.now()
  for (let k = 1; k <= updates; k++) {
    content = randomBytes(config.updateSize)
    const s0 = performance.now()
    writeFileSync(onB, content)
    await client.call('waitQueued', {
      name,
      server: a.name,
      atLeast: k,
      timeoutMs: config.opTimeoutMs,
    })
    stepMs.push(performance.now() - s0)
  }
  const queueSec = (performance.now() - t0) / 1000
  if (!readFileSync(path.join(a.root, name)).equals(original))
    throw new Error(`'${name}' changed at ${a.name} while it was locked there`)
  const unlock = await client.time('unlock', target)
  const { applied, conflicts } = unlock.result
  if (applied !== updates || conflicts !== 0)
    throw new Error(
      `unlock of '${name}' after ${updates} queued updates: ${JSON.stringify(unlock.result)}`,
    )
  if (!readFileSync(path.join(a.root, name)).equals(content))
    throw new Error(`after the unlock, '${name}' at ${a.name} is not ${b.name}'s last version`)
  // Unlocked, the file mirrors normally again: one more change at B reaches A's disk.
  const after = randomBytes(config.updateSize)
  writeFileSync(onB, after)
  const w = await waitContent(path.join(a.root, name), after, content, config.opTimeoutMs)
  if (w.timedOut)
    throw new Error(`after the unlock, a change to '${name}' at ${b.name} did not reach ${a.name}`)
  return {
    name,
    updates,
    lockMs: round(lock.ms, 3),
    unlockMs: round(unlock.ms, 3),
    perUpdateMs: round(unlock.ms / updates, 3),
    applied,
    conflicts,
    queueSec: round(queueSec, 3),
    queueStep: spread(stepMs),
  }
}

/**
 * The baseline: `updates` changes on B's disk to `name`, unlocked, each waited for until A's disk
 * holds its bytes (polled every 1 ms), so that A mirrors every one of them. Time from the first
 * write until A held the last.
 * @param {Server} a @param {Server} b @param {string} name @param {number} updates
 * @param {LockTrialConfig} config
 */
export async function mirrorChanges(a, b, name, updates, config) {
  let content = randomBytes(config.updateSize)
  await placeMirrored(a, b, name, content)
  const onA = path.join(a.root, name)
  const onB = path.join(b.root, name)
  /** @type {number[]} */
  const stepMs = []
  const t0 = performance.now()
  for (let k = 1; k <= updates; k++) {
    const before = content
    content = randomBytes(config.updateSize)
    const s0 = performance.now()
    writeFileSync(onB, content)
    const w = await waitContent(onA, content, before, config.opTimeoutMs)
    if (w.timedOut)
      throw new Error(`change ${k} of '${name}' at ${b.name} did not reach ${a.name} in time`)
    stepMs.push(w.done - s0)
  }
  const totalMs = performance.now() - t0
  return {
    name,
    updates,
    totalMs: round(totalMs, 3),
    perUpdateMs: round(totalMs / updates, 3),
    step: spread(stepMs),
  }
}

/**
 * A second baseline: `updates` client `write`s of `name` at A, one after the other (each replaced
 * atomically and fsynced by the server, like each update an unlock applies). The sum of the round
 * trips, each timed in the client.
 * @param {Server} a @param {Server} b @param {LockClient} client @param {string} name
 * @param {number} updates @param {LockTrialConfig} config
 */
export async function clientWrites(a, b, client, name, updates, config) {
  await placeMirrored(a, b, name, randomBytes(config.updateSize))
  /** @type {number[]} */
  const ms = []
  let content = Buffer.alloc(0)
  for (let k = 1; k <= updates; k++) {
    content = randomBytes(config.updateSize)
    ms.push((await client.time('write', { name, bytes: [...content] })).ms)
  }
  if (!readFileSync(path.join(a.root, name)).equals(content))
    throw new Error(`after ${updates} writes, '${name}' at ${a.name} is not the last one`)
  const totalMs = ms.reduce((sum, x) => sum + x, 0)
  return {
    name,
    updates,
    totalMs: round(totalMs, 3),
    perUpdateMs: round(totalMs / updates, 3),
    step: spread(ms),
  }
}

/** @param {Record<string, number>} o */
function roundAll(o) {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, round(v, 3)]))
}
