import type { Connection } from '../../connection.js'
import { recallListing } from '../../listing-cache.js'
import { lockFile, lockTarget, unlockFile, type LockTarget } from '../../user-locks.js'
import { checkRemoteArgument } from '../../targets.js'
import type { CliContext } from '../context.js'
import { renderLocked, renderUnlocked } from '../render/locks.js'

/** `lock INDEX|NAME [--ttl S] [--name]`: a user lock at the connected server. */
export async function lockCommand(
  ctx: CliContext,
  target: string,
  options: { ttl?: number; name?: boolean },
): Promise<void> {
  checkRemoteArgument(target, { asName: options.name === true })
  const conn = await ctx.connection()
  const which = await resolveTarget(ctx, conn, target, options.name === true)
  const result = await ctx.run((c, rid) => lockFile(c, which, { ttlSeconds: options.ttl, rid }))
  ctx.print(result, renderLocked(result, ctx.interactive))
}

/** `unlock INDEX|NAME [--force] [--name]`: release it; the server applies what was queued. */
export async function unlockCommand(
  ctx: CliContext,
  target: string,
  options: { force?: boolean; name?: boolean },
): Promise<void> {
  checkRemoteArgument(target, { asName: options.name === true })
  const conn = await ctx.connection()
  const which = await resolveTarget(ctx, conn, target, options.name === true)
  let server = conn.server.name
  const unlocking = ctx.run((c, rid) => {
    server = c.server.name
    return unlockFile(c, which, { force: options.force, rid })
  })
  const result = await ctx.waitWith(`Unlocking ${target} (applying queued updates)…`, unlocking)
  ctx.print(result, renderUnlocked(result, server))
}

/**
 * A numeric target is an index into the listing `ls` last printed for this server: the name it
 * showed there goes along as `expect`. Without a remembered listing the server resolves the index
 * in its current one. Unlike the other commands (targets.ts), the server itself reads the index
 * and takes the lock in one step, so that no change can come between the check and the lock.
 */
async function resolveTarget(
  ctx: CliContext,
  conn: Connection,
  target: string,
  asName: boolean,
): Promise<LockTarget> {
  const numeric = !asName && /^\d+$/.test(target)
  const seen = numeric ? await recallListing(ctx.listingCacheFile, conn.address) : undefined
  return lockTarget(target, asName, seen)
}
