/**
 * Small HTTP requests under load: autocannon (its programmatic API) in a child process of its own,
 * so that the load generator is a separate client process like every other client here, and the
 * benchmark process only coordinates. One call = an unrecorded warm-up run, then the measured run,
 * both with the same connections and headers.
 *
 *   node http-load.mjs   (forked; parent → { url, connections, warmupSec, durationSec, headers },
 *                        child → { t: 'done', result } or { t: 'failed', error })
 */
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { forkTracked, stopChild } from './children.mjs'
import { round } from './stats.mjs'

const SCRIPT = fileURLToPath(import.meta.url)
const isChild = process.argv[2] === '--child'

/**
 * @typedef {{ url: string, connections: number, warmupSec: number, durationSec: number,
 *   headers: Record<string, string> }} LoadJob
 * @typedef {{ requestsPerSec: number, requests: number, ok: number, non2xx: number,
 *   errors: number, timeouts: number, statusCodes: Record<string, number>, latencyMs: { p50: number,
 *   p90: number, p99: number, max: number, mean: number }, durationSec: number,
 *   clientCpuSec: number }} LoadResult
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

/** @param {LoadJob} job @param {number} durationSec */
async function fire(job, durationSec) {
  const { default: autocannon } = await import('autocannon')
  return autocannon({
    url: job.url,
    connections: job.connections,
    duration: durationSec,
    headers: job.headers,
  })
}

/** @param {any} r @param {number} cpuSec @returns {LoadResult} */
function summarize(r, cpuSec) {
  /** @type {Record<string, number>} */
  const statusCodes = {}
  for (const [code, stat] of Object.entries(r.statusCodeStats ?? {}))
    statusCodes[code] = Number(/** @type {any} */ (stat).count)
  const requests = r.requests.total
  return {
    requestsPerSec: round(requests / r.duration, 1),
    requests,
    ok: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    statusCodes,
    latencyMs: {
      p50: r.latency.p50,
      p90: r.latency.p90,
      p99: r.latency.p99,
      max: r.latency.max,
      mean: round(r.latency.mean, 3),
    },
    durationSec: r.duration,
    clientCpuSec: round(cpuSec, 3),
  }
}

if (isChild) {
  process.once('message', async (/** @type {LoadJob} */ job) => {
    try {
      if (job.warmupSec > 0) await fire(job, job.warmupSec)
      const cpu0 = process.cpuUsage()
      const r = await fire(job, job.durationSec)
      const cpu = process.cpuUsage(cpu0)
      process.send?.({ t: 'done', result: summarize(r, (cpu.user + cpu.system) / 1e6) })
    } catch (err) {
      process.send?.({ t: 'failed', error: err instanceof Error ? err.stack : String(err) })
    }
  })
  process.on('disconnect', () => process.exit(0))
}
