/**
 * Where an initial mirror spends its time, seen from outside the servers: each server's own count
 * of indexed files (`status` → sync.files), asked every 100 ms over a client connection, tells
 * when A had noticed and hashed everything cp wrote, and when B had applied it; B's console lines
 * naming the copied folder tell when its pulls began and ended. Diagnostics only: no result
 * depends on them.
 */
import { performance } from 'node:perf_hooks'
import { importDist } from './dist.mjs'
import { round } from './stats.mjs'

/** @typedef {import('./cluster.mjs').ClusterServer} Server */

const INTERVAL_MS = 100
const sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * A kept-open client connection to one server that answers "how many live files does your index
 * hold?" (null when it cannot tell; the next question reconnects).
 * @param {Server} s
 */
function indexCounter(s) {
  /** @type {any} */
  let conn = null
  return {
    async files() {
      const { connect } = await importDist('client/connection.js')
      try {
        conn ??= await connect({ host: s.host, port: s.port, clientId: 'bench-mirror-progress' })
        const status = await conn.status()
        return typeof status?.sync?.files === 'number' ? status.sync.files : null
      } catch {
        conn?.close().catch(() => undefined)
        conn = null
        return null
      }
    },
    async close() {
      await conn?.close().catch(() => undefined)
    },
  }
}

/**
 * Start sampling both servers' indexed-file counts. `finish(t0, count, needle)` stops, and returns
 * the timeline ([ms after t0, A's files, B's files]) plus when each server first counted all
 * `count` new files and B's first and last console line containing `needle`, in s after t0.
 * @param {Server} a @param {Server} b
 */
export async function startProgress(a, b) {
  const counters = [indexCounter(a), indexCounter(b)]
  const count = () => Promise.all(counters.map((c) => c.files()))
  const [baseA, baseB] = await count()
  const base = { A: baseA ?? null, B: baseB ?? null }
  /** @type {[number, number | null, number | null][]} */
  const timeline = []
  let running = true
  const loop = (async () => {
    while (running) {
      const [x, y] = await count()
      timeline.push([performance.now(), x ?? null, y ?? null])
      await sleep(INTERVAL_MS)
    }
  })()
  return {
    /** @param {number} t0 @param {number} count @param {string} needle */
    async finish(t0, count, needle) {
      running = false
      await loop
      await Promise.all(counters.map((c) => c.close()))
      const sec = (/** @type {number | undefined} */ t) =>
        t === undefined ? null : round((t - t0) / 1000, 3)
      const allAt = (/** @type {1 | 2} */ col, /** @type {number | null} */ from) =>
        from === null
          ? undefined
          : timeline.find((row) => (row[col] ?? -Infinity) - from >= count)?.[0]
      const pulls = b.lines.filter(([t, line]) => t >= t0 && line.includes(needle))
      return {
        aIndexedAllSec: sec(allAt(1, base.A)),
        bIndexedAllSec: sec(allAt(2, base.B)),
        bFirstLineSec: sec(pulls[0]?.[0]),
        bLastLineSec: sec(pulls.at(-1)?.[0]),
        bLines: pulls.length,
        timeline: timeline.map(([t, x, y]) => [Math.round(t - t0), x, y]),
      }
    },
  }
}
