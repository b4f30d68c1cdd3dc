/**
 * How large V8 may let each thread's young generation grow. V8 starts it at 1 MiB per semi-space
 * and doubles it while a thread allocates fast; it never gives the memory back, so a burst at
 * start-up (loading fastify, zod, the session code) kept 8–32 MiB resident per thread for the life
 * of the server. The threads' garbage is small (bytes travel in transferred ArrayBuffers, off the
 * heap), so the smallest young generation costs little. See ARCHITECTURE.md, "Memory".
 */
import v8 from 'node:v8'

/** `resourceLimits` for a worker thread that does little allocation: 1 MiB semi-spaces. */
export const SMALL_YOUNG_GENERATION = { maxYoungGenerationSizeMb: 3 } as const

/**
 * Keep the main thread's young generation at its initial size (a worker's is set when it starts;
 * the main thread's can only be kept from growing). `tandem serve` calls it before the server's
 * modules load.
 */
export function keepMainYoungGenerationSmall(): void {
  v8.setFlagsFromString('--semi-space-growth-factor=1')
}
