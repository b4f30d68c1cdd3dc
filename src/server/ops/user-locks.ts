/**
 * `lock`, `unlock` and a lock's status. The target is resolved here from the same composite
 * listing `ls` shows; the lock itself is kept by the sync worker (it holds the queue of the peers'
 * updates), reached through the main thread, which knows the client's id.
 */
import {
  TandemError,
  normalizeName,
  type LockResult,
  type UnlockResult,
  type UserLock,
} from '../../protocol/index.js'
import type { OpsContext } from './context.js'
import { forwardRequest, ridOf } from './forwarding.js'
import { list } from './listing.js'
import { orMoved } from './moved.js'
import { once } from './once.js'

/** What lock and unlock act on: a name, or an index of the listing (with the name seen there). */
export interface LockTarget {
  name?: string | undefined
  index?: number | undefined
  expect?: string | undefined
}

/**
 * A lock's or unlock's rid is kept at this server only (a user lock is held at one server): a
 * replay here answers the original result; one at another member is a new request.
 */
export async function lock(
  ctx: OpsContext,
  req: LockTarget & { ttlSeconds?: number | undefined; rid?: string | undefined },
): Promise<LockResult> {
  return once(ctx, req.rid, 'lock', targetOf(req), async (c) => {
    const name = await resolveTarget(c, req)
    // At a secondary the lock is held at the primary, in the name of this client.
    if (c.forward) {
      const ttl = req.ttlSeconds === undefined ? {} : { ttlSeconds: req.ttlSeconds }
      return forwardRequest(c, c.forward, { op: 'lock', name, ...ttl, ...ridOf(req) }, { name })
    }
    // Held only at other members (--replicas): the lock is taken at a holder, where a write that
    // reaches the file is queued or refused; every member learns of it as of any peer's lock.
    return orMoved(c, name, async () => {
      return (await c.userLock({ op: 'lock', name, ttlSeconds: req.ttlSeconds })) as LockResult
    })
  })
}

export async function unlock(
  ctx: OpsContext,
  req: LockTarget & { force?: boolean | undefined; rid?: string | undefined },
): Promise<UnlockResult> {
  return once(ctx, req.rid, 'unlock', targetOf(req), async (c) => {
    const name = await resolveTarget(c, req)
    if (c.forward) {
      const force = req.force === undefined ? {} : { force: req.force }
      return forwardRequest(c, c.forward, { op: 'unlock', name, ...force, ...ridOf(req) }, { name })
    }
    return lockedElsewhere(c, name, async () => {
      return (await c.userLock({ op: 'unlock', name, force: req.force })) as UnlockResult
    })
  })
}

/**
 * Run an unlock here; when this server has no lock on `name` but the index lists a peer's lock
 * on it, ERR_MOVED naming that one peer instead, so that the client unlocks it where it is held.
 * So a lock followed to a holder (partial replication) is released through the member it was
 * asked at. The lock list is mirrored; where the peer is reached is known from the `members`
 * table only (partial replication): without it, the ERR_NOT_FOUND stands.
 */
async function lockedElsewhere<T>(ctx: OpsContext, name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    if (!(err instanceof TandemError && err.code === 'ERR_NOT_FOUND')) throw err
    const here = ctx.config.serverName
    const theirs = ctx.index.locks().find((l) => l.name === name && l.server !== here)
    const at = theirs && ctx.index.member?.(theirs.server)
    if (!theirs || !at) throw err
    throw new TandemError(
      'ERR_MOVED',
      `'${name}' is not locked at ${here}: its lock is at ${theirs.server}`,
      { holders: [at] },
    )
  }
}

/** What a lock request names, as a replay must name it again. */
function targetOf(req: LockTarget): string {
  // An index is marked by U+001F, which no name holds: a file named '#0' is not index 0.
  return req.name !== undefined ? req.name : `\u001f#${req.index ?? 0}`
}

/** Whether `name` is locked here or at a peer, by whom, and whether by this client. */
export interface LockStatus {
  name: string
  locked: boolean
  owner: string | null
  server: string | null
  since: number | null
  expiresAt: number | null
  queued: number
  yours: boolean
}

export function lockStatus(ctx: OpsContext, req: { name: string }): LockStatus {
  const name = normalizeName(req.name)
  // This server's lock first (the list has it first), then a peer's.
  const held: UserLock | undefined = ctx.index.locks().find((l) => l.name === name)
  return {
    name,
    locked: held !== undefined,
    owner: held?.owner ?? null,
    server: held?.server ?? null,
    since: held?.since ?? null,
    expiresAt: held?.expiresAt ?? null,
    queued: held?.queued ?? 0,
    yours: held !== undefined && held.owner === ctx.client.id,
  }
}

/**
 * A name as given, or the name at an index of the listing. With the name the client saw there
 * (`expect`), a listing that changed so that the index names another file is refused.
 */
async function resolveTarget(ctx: OpsContext, req: LockTarget): Promise<string> {
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
