import type { CliContext } from '../context.js'

/**
 * `lock INDEX|NAME [--ttl S]` and `unlock INDEX|NAME [--force]`. User locks come with a later
 * issue: for now the request goes to the server as is, and today's server answers
 * ERR_UNKNOWN_OPERATION, which is printed like any error. The request's shape is provisional.
 */
export async function lockCommand(
  ctx: CliContext,
  op: 'lock' | 'unlock',
  target: string,
  options: { name?: boolean; ttl?: number; force?: boolean },
): Promise<void> {
  const conn = await ctx.connection()
  const which = /^\d+$/.test(target) && !options.name ? { index: Number(target) } : { name: target }
  const extra =
    op === 'lock' ? defined({ ttlSeconds: options.ttl }) : defined({ force: options.force })
  const result = await conn.request(op, { ...which, ...extra })
  ctx.print(result, `${op === 'lock' ? 'locked' : 'unlocked'} ${target}`)
}

function defined(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined))
}
