/** Schemas of requests shared by several routes (validated, and described in openapi.json). */
import { z } from 'zod'

export const logQuery = z.object({
  since: z.coerce.number().int().nonnegative().optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(100),
})

/** `?recursive=1` (or true): a folder is deleted with every file under it. */
export const deleteQuery = z.object({ recursive: z.enum(['true', 'false', '1', '0']).optional() })

export function isRecursive(query: { recursive?: string | undefined }): boolean {
  return query.recursive === 'true' || query.recursive === '1'
}

/**
 * `?prefix=`: only the rows whose names start with it (`dir/`: the files under the folder dir).
 * The rows keep their indexes in the whole listing, which is what an index names.
 */
export const listQuery = z.object({ prefix: z.string().max(8192).optional() })

export function withPrefix<T extends { name: string }>(rows: T[], prefix: string | undefined): T[] {
  return prefix ? rows.filter((row) => row.name.startsWith(prefix)) : rows
}

export const nameQuery = z.object({ name: z.string().min(1).max(8192).optional() })
