/**
 * The user-lock benchmark's rows for the summary table (same Row shape as summary.mjs). Issue 4
 * sets no target: the measured rows say "report" and never pass or fail; the baseline column holds
 * what the same run measured to compare with (see README.md, "User locks").
 */
import { median } from './stats.mjs'
import { row } from './summary.mjs'

/** @param {{ config: any, runs: any[] }} locks @returns {import('./summary.mjs').Row[]} */
export function lockRows(locks) {
  const { runs } = locks
  const done = runs.filter((r) => r.roundTrips && r.summary)
  if (done.length === 0) return []
  const med = (/** @type {(r: any) => number} */ f) => median(done.map(f))
  const all = (/** @type {(r: any) => number[]} */ f) => done.flatMap(f)
  const trials = all((r) => r.roundTrips.trials)
  const rt = (/** @type {string} */ op, /** @type {'p50Ms' | 'p90Ms'} */ p) =>
    med((r) => r.roundTrips.summary[op][p])
  const maxOf = (/** @type {string} */ op) => Math.max(...trials.map((t) => t[op]))
  const ping = (/** @type {'p50Ms' | 'p90Ms'} */ p) => ({
    baseline: rt('ping', p),
    baselineName: 'ping',
  })
  const report = { target: 'report' }
  const n = trials.length

  const queued = all((r) => r.queued)
  const updates = queued[0]?.updates ?? locks.config.updates
  const unlockP50 = med((r) => r.summary.unlockQueued.p50Ms)
  const mirror = { baseline: med((r) => r.summary.mirrorMs), baselineName: 'mirror unlocked' }
  const writes = { baseline: med((r) => r.summary.writesMs), baselineName: 'client writes' }
  return [
    row('lock by index, round trip, p50', 'ms', rt('lock', 'p50Ms'), {
      ...ping('p50Ms'),
      ...report,
    }),
    row('  p90', 'ms', rt('lock', 'p90Ms'), { ...ping('p90Ms'), ...report }),
    row(`  max of all ${n} trials`, 'ms', maxOf('lock'), {
      baseline: maxOf('ping'),
      baselineName: 'ping',
      ...report,
    }),
    row('unlock, nothing queued, p50', 'ms', rt('unlock', 'p50Ms'), {
      ...ping('p50Ms'),
      ...report,
    }),
    row('  p90', 'ms', rt('unlock', 'p90Ms'), { ...ping('p90Ms'), ...report }),
    row(`  max of all ${n} trials`, 'ms', maxOf('unlock'), {
      baseline: maxOf('ping'),
      baselineName: 'ping',
      ...report,
    }),
    row('stat of the same file, p50', 'ms', rt('stat', 'p50Ms'), ping('p50Ms')),
    row(`unlock applying ${updates} queued updates, p50`, 'ms', unlockP50, {
      ...mirror,
      ...report,
    }),
    row('  per update', 'ms', unlockP50 / updates, {
      baseline: mirror.baseline / updates,
      baselineName: 'mirror unlocked',
      ...report,
    }),
    row(`  vs ${updates} writes by a client at A`, 'ms', unlockP50, writes),
    row(`  max of all ${queued.length} trials`, 'ms', Math.max(...queued.map((q) => q.unlockMs)), {
      baseline: Math.max(...all((r) => r.mirrored).map((m) => m.totalMs)),
      baselineName: 'mirror unlocked',
    }),
    row(
      `  time to queue the ${updates} updates`,
      's',
      med((r) => r.summary.queueSec),
      { baseline: mirror.baseline / 1000, baselineName: 'mirror unlocked' },
    ),
  ]
}
