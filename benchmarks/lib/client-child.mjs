/**
 * The IPC protocol between the benchmark and one client process. The parent sends `prepare` (the
 * client connects: not timed), waits until every client is ready, then sends `go` to all of them;
 * each times its own transfer and answers `done` with wall-clock start/end (comparable across
 * processes to about a millisecond) and its own CPU time.
 *
 * @typedef {{ t: 'prepare', job: Record<string, any> } | { t: 'go' } | { t: 'exit' }} ToClient
 * @typedef {{ t: 'ready' } | { t: 'done', start: number, end: number, cpuSec: number, bytes: number, files?: number }
 *   | { t: 'failed', error: string }} FromClient
 */
import { performance } from 'node:perf_hooks'

/** Milliseconds since the epoch, sub-millisecond resolution. */
export const now = () => performance.timeOrigin + performance.now()

/**
 * Run the client side of the protocol with one kind of client.
 * @template S
 * @param {{
 *   prepare(job: Record<string, any>): Promise<S>,
 *   run(state: S): Promise<{ bytes: number, files?: number }>,
 *   after(state: S): Promise<void>,
 * }} client
 */
export function serveJobs(client) {
  /** @type {S | undefined} */
  let state
  const send = (/** @type {FromClient} */ message) => process.send?.(message)
  process.on('message', async (/** @type {ToClient} */ message) => {
    try {
      if (message.t === 'prepare') {
        state = await client.prepare(message.job)
        send({ t: 'ready' })
      } else if (message.t === 'go') {
        const s = /** @type {S} */ (state)
        const cpu0 = process.cpuUsage()
        const start = now()
        const detail = await client.run(s)
        const end = now()
        const cpu = process.cpuUsage(cpu0)
        await client.after(s)
        send({ t: 'done', start, end, cpuSec: (cpu.user + cpu.system) / 1e6, ...detail })
      } else if (message.t === 'exit') {
        process.exit(0)
      }
    } catch (err) {
      send({ t: 'failed', error: err instanceof Error ? (err.stack ?? err.message) : String(err) })
    }
  })
  // The parent died or let go: never linger.
  process.on('disconnect', () => process.exit(0))
}
