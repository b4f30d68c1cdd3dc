/**
 * Small HTTP requests under load: autocannon (its programmatic API) in a child process of its own,
 * so that the load generator is a separate client process like every other client here, and the
 * benchmark process only coordinates. One call = one autocannon run of warmupSec + durationSec on
 * the same connections; only the responses that complete in the last durationSec count (timed by
 * the 'response' events, to the microsecond). One run rather than two: a separate warm-up run would
 * leave its last requests in flight at the server (a /list takes a second or more at 50
 * connections) when the measured run starts, and would start all connections in step again.
 *
 *   node http-load.mjs --child  (forked; parent → { url, connections, warmupSec, durationSec, headers },
 *                               child → { t: 'done', result } or { t: 'failed', error })
 */
import { once } from 'node:events'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { forkTracked, stopChild } from './children.mjs'
import { round } from './stats.mjs'

const SCRIPT = fileURLToPath(import.meta.url)
const isChild = process.argv[2] === '--child'

/**
 * @typedef {{ url: string, connections: number, warmupSec: number, durationSec: number,
 *   headers: Record<string, string> }} LoadJob
 * @typedef {{ requestsPerSec: number, requests: number, ok: number, non2xx: number,
 *   errors: number, statusCodes: Record<string, number>, latencyMs: { p50: number, p90: number,
 *   p99: number, max: number, mean: number }, durationSec: number, whole: { requests: number,
 *   non2xx: number, errors: number, timeouts: number }, clientCpuSec: number }} LoadResult
 */

/**
 * Run one load job in a fresh child process.
 * @param {LoadJob} job @returns {Promise<LoadResult>}
 */
export async function httpLoad(job) {
  if (!job.url.startsWith('http://127.0.0.1:')) throw new Error(`load: only 127.0.0.1: ${job.url}`)
  const child = forkTracked(SCRIPT, ['--child'])
  const deadlineMs = (job.warmupSec + job.durationSec) * 1000 + 60_000
  try {
    const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs)
    child.send(job)
    const answer = await Promise.race([
      once(child, 'message').then(([m]) => m),
      once(child, 'exit').then(([code]) => ({ t: 'failed', error: `load process exited ${code}` })),
    ])
    clearTimeout(timer)
    if (answer.t !== 'done') throw new Error(`load ${job.url}: ${answer.error}`)
    return answer.result
  } finally {
    await stopChild(child, 'SIGTERM', 2_000)
  }
}

/** Nearest rank. @param {number[]} sorted @param {number} p */
function rank(sorted, p) {
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? NaN
}

/** @param {LoadJob} job @returns {Promise<LoadResult>} */
async function measure(job) {
  const { default: autocannon } = await import('autocannon')
  const t0 = performance.now()
  const from = t0 + job.warmupSec * 1000
  const to = from + job.durationSec * 1000
  /** @type {number[]} */
  const latencies = []
  /** @type {Record<string, number>} */
  const statusCodes = {}
  let errors = 0
  const cpu0 = process.cpuUsage()
  const instance = autocannon({
    url: job.url,
    connections: job.connections,
    duration: job.warmupSec + job.durationSec,
    headers: job.headers,
  })
  instance.on(
    'response',
    (
      /** @type {unknown} */ _client,
      /** @type {number} */ status,
      /** @type {number} */ _bytes,
      /** @type {number} */ ms,
    ) => {
      const t = performance.now()
      if (t < from || t > to) return
      latencies.push(ms)
      statusCodes[status] = (statusCodes[status] ?? 0) + 1
    },
  )
  instance.on('reqError', () => {
    const t = performance.now()
    if (t >= from && t <= to) errors++
  })
  const whole = await instance
  const cpu = process.cpuUsage(cpu0)
  const sorted = latencies.sort((a, b) => a - b)
  const ok = Object.entries(statusCodes)
    .filter(([code]) => code.startsWith('2'))
    .reduce((n, [, count]) => n + count, 0)
  return {
    requestsPerSec: round(sorted.length / job.durationSec, 1),
    requests: sorted.length,
    ok,
    non2xx: sorted.length - ok,
    errors,
    statusCodes,
    latencyMs: {
      p50: round(rank(sorted, 0.5), 3),
      p90: round(rank(sorted, 0.9), 3),
      p99: round(rank(sorted, 0.99), 3),
      max: round(sorted.at(-1) ?? NaN, 3),
      mean: round(sorted.reduce((sum, x) => sum + x, 0) / sorted.length, 3),
    },
    durationSec: job.durationSec,
    // The whole run, warm-up included: any non-2xx answer or error there counts too.
    whole: {
      requests: whole.requests.total,
      non2xx: whole.non2xx,
      errors: whole.errors,
      timeouts: whole.timeouts,
    },
    clientCpuSec: round((cpu.user + cpu.system) / 1e6, 3),
  }
}

if (isChild) {
  process.once('message', async (/** @type {LoadJob} */ job) => {
    try {
      process.send?.({ t: 'done', result: await measure(job) })
    } catch (err) {
      process.send?.({ t: 'failed', error: err instanceof Error ? err.stack : String(err) })
    }
  })
  process.on('disconnect', () => process.exit(0))
}
