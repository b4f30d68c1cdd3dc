/**
 * How large V8 may let each thread's young generation grow. V8 starts it at 1 MiB per semi-space
 * and doubles it while a thread allocates fast; it never gives the memory back, so a burst at
 * start-up (loading fastify, zod, the session code) kept 8–32 MiB resident per thread for the life
 * of the server. The threads' garbage is small (bytes travel in transferred ArrayBuffers, off the
 * heap), so the smallest young generation costs little. See ARCHITECTURE.md, "Memory".
 */
import v8 from 'node:v8'
import type { Worker } from 'node:worker_threads'

/** `resourceLimits` for a worker thread that does little allocation: 1 MiB semi-spaces. */
export const SMALL_YOUNG_GENERATION = { maxYoungGenerationSizeMb: 3 } as const

const GROWTH_FACTOR_1 = '--semi-space-growth-factor=1'

/**
 * Keep the young generations from growing: the main thread's (its size can only be fixed when a
 * thread starts; this keeps it at its initial 1 MiB semi-spaces) and the sync worker's (up to its
 * own limit). `tandem serve` calls it before the server's modules load.
 *
 * The flag is process-wide, but V8 puts any growth factor below 2 back to 2 when it sets up a new
 * isolate's heap, so every worker thread that starts (session, HTTP, sync) undid it for all
 * threads: the main thread's semi-spaces grew to 16 MiB again. It is set again as each worker
 * comes online (Node's process-wide 'worker' event covers every Worker, Piscina's too), before
 * the worker has loaded its modules.
 */
export function keepMainYoungGenerationSmall(): void {
  v8.setFlagsFromString(GROWTH_FACTOR_1)
  process.on('worker', keepAfterWorkerStart)
}

/** Set the growth factor again once `worker`'s isolate exists (V8 has reset it by then). */
export function keepAfterWorkerStart(worker: Worker): void {
  worker.once('online', () => v8.setFlagsFromString(GROWTH_FACTOR_1))
}
