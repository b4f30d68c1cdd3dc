/** Schemas of requests shared by several routes (validated, and described in openapi.json). */
import { z } from 'zod'

export const logQuery = z.object({
  since: z.coerce.number().int().nonnegative().optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(100),
})

export const nameQuery = z.object({ name: z.string().min(1).max(8192).optional() })
