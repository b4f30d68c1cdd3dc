/**
 * `lock` and `unlock`: the target is resolved here, in the session, from the same
 * composite listing `ls` shows; the lock itself is kept by the sync worker (it holds the queue of
 * the peers' updates), reached through the main thread, which knows the client's id.
 */
import {
  TandemError,
  normalizeName,
  type LockResult,
  type RequestOf,
  type UnlockResult,
} from '../../protocol/index.js'
import type { SessionContext } from './context.js'
import type { Outbound } from './dispatch.js'
import { list } from './simple-ops.js'

export async function userLock(
  ctx: SessionContext,
  req: RequestOf<'lock'> | RequestOf<'unlock'>,
  out: Pick<Outbound, 'userLock'>,
): Promise<LockResult | UnlockResult> {
  const name = await resolveTarget(ctx, req)
  if (req.op === 'lock')
    return (await out.userLock({ op: 'lock', name, ttlSeconds: req.ttlSeconds })) as LockResult
  return (await out.userLock({ op: 'unlock', name, force: req.force })) as UnlockResult
}

/**
 * A name as given, or the name at an index of the listing. With the name the client saw there
 * (`expect`), a listing that changed so that the index names another file is refused.
 */
async function resolveTarget(
  ctx: SessionContext,
  req: RequestOf<'lock'> | RequestOf<'unlock'>,
): Promise<string> {
  if (req.name !== undefined) return normalizeName(req.name)
  const index = req.index ?? 0
  const { files } = await list(ctx)
  const row = files[index]
  const expect = req.expect === undefined ? undefined : normalizeName(req.expect)
  if (expect !== undefined && row?.name !== expect)
    throw new TandemError(
      'ERR_LISTING_CHANGED',
      `the listing changed: index ${index} is now ${row ? `'${row.name}'` : 'past the end'}, not '${expect}' (list again, or give the name)`,
    )
  if (!row)
    throw new TandemError(
      'ERR_NOT_FOUND',
      `no file at index ${index}: the listing has ${files.length} file(s) (0–${files.length - 1})`,
    )
  return row.name
}
