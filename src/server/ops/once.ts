/**
 * The dedupe step: a request that carries a request id (rid) is applied at most once, cluster
 * wide. It runs first, before anything else the operation does (forwarding to a primary
 * included): a replay of a rid this server or any member whose change reached here applied is
 * answered with the original result, and a replay that arrives while the first is still running
 * here waits for it. Written once here for every front end: the binary session and the HTTP
 * worker both reach it through the operations (files.ts, user-locks.ts, body-receiver.ts).
 *
 * The operation tells its answer under the write lock of its change (`ctx.applied`); it is
 * recorded in the main thread (tandem.db) before that lock is let go, and so before the client is
 * answered, and told to the sync worker ahead of the write's notice, so that the index entry of
 * the change carries the rid and the answer to the peers (requests/request-gate.ts,
 * index/request-window.ts).
 */
import type { Release, OpsContext } from './context.js'
import type { RequestTag } from '../index/request-window.js'
import { afterCommit } from './test-hook.js'

export interface Claim {
  /** Set when the request was applied already: its original result. */
  readonly replay: { result: unknown } | undefined
  /** The context the operation runs with (it records the answer under the change's lock). */
  readonly ctx: OpsContext
  /** The operation answered this: recorded if its lock did not already, then the test hook. */
  finished(result: unknown): Promise<void>
  /** At the end, whatever happened: the rid is given up unless it was recorded. */
  release(): void
}

/**
 * Claim `rid` for this request (op and target: what a replay must name again). Undefined
 * without a rid or without a request window (a harness): the request runs as it is.
 */
export async function claimRequest(
  ctx: OpsContext,
  rid: string | undefined,
  op: string,
  target: string,
): Promise<Claim | undefined> {
  const calls = ctx.requests
  if (rid === undefined || !calls) return undefined
  const tag: RequestTag = { rid, op, target }
  const begun = await calls.begin(tag)
  if (begun.replay) {
    return {
      replay: { result: begun.result },
      ctx,
      finished: async () => undefined,
      release: () => undefined,
    }
  }
  let pending: { result: unknown } | undefined
  let recorded = false
  let released = false
  const record = async (result: unknown, names: readonly string[]): Promise<void> => {
    if (recorded) return
    recorded = true
    await calls.done(tag, result, names)
  }
  const inner: OpsContext = {
    ...ctx,
    applied: (result) => {
      pending = { result }
    },
    lock: async (names, mode, purpose) => {
      const release = await ctx.lock(names, mode, purpose)
      const wrapped: Release = async (wrote) => {
        try {
          // Before the lock goes (and its notice is sent): the record is in before anything
          // else can see the change, and the sync worker hears of the rid before the notice.
          if (wrote !== false && pending && !recorded) await record(pending.result, names)
        } finally {
          await release(wrote)
        }
      }
      return wrapped
    },
  }
  return {
    replay: undefined,
    ctx: inner,
    finished: async (result) => {
      await record(result, [])
      await afterCommit(inner, op, rid)
    },
    release: () => {
      if (!recorded && !released) calls.abandon(rid)
      released = true
    },
  }
}

/** Run `fn` at most once for `rid` (see claimRequest); a replay returns the original result. */
export async function once<T>(
  ctx: OpsContext,
  rid: string | undefined,
  op: string,
  target: string,
  fn: (ctx: OpsContext) => Promise<T>,
): Promise<T> {
  const claim = await claimRequest(ctx, rid, op, target)
  if (!claim) return fn(ctx)
  try {
    if (claim.replay) return claim.replay.result as T
    const result = await fn(claim.ctx)
    await claim.finished(result)
    return result
  } finally {
    claim.release()
  }
}
