/**
 * A server's load as its welcome tells it (`load: {clients, maxClients}`), for choosing the
 * least-loaded member of a cluster. Optional: a server that does not say is taken as it comes.
 */
import { z } from 'zod'

export interface ServerLoad {
  clients: number
  maxClients: number
}

const loadSchema = z.object({
  load: z.object({
    clients: z.number().int().nonnegative(),
    maxClients: z.number().int().nonnegative(),
  }),
})

/** The `load` of a raw welcome message, or undefined when it has none (or a malformed one). */
export function readLoad(raw: unknown): ServerLoad | undefined {
  const parsed = loadSchema.safeParse(raw)
  return parsed.success ? parsed.data.load : undefined
}
