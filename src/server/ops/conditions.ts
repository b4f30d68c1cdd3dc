/**
 * Conditional writes (HTTP's If-Match and If-None-Match, RFC 9110 §13): checked under the
 * target's write lock, right before the new content replaces the old, so that nothing can change
 * the file between the check and the write. A failed condition changes nothing.
 */
import { TandemError } from '../../protocol/index.js'
import type { ResolvedName } from '../storage/path-jail.js'
import { contentHash } from './content-hash.js'
import type { OpsContext } from './context.js'
import { movedError } from './moved.js'

export interface Conditions {
  /** Entity tags (SHA-256 hex) one of which the current content must have; '*': it must exist. */
  ifMatch?: readonly string[] | '*' | undefined
  /** Tags the current content must not have; '*': the file must not exist. */
  ifNoneMatch?: readonly string[] | '*' | undefined
}

export function hasConditions(c: Conditions | undefined): c is Conditions {
  return c !== undefined && (c.ifMatch !== undefined || c.ifNoneMatch !== undefined)
}

/** Throws ERR_PRECONDITION unless `conditions` hold for `file` as it is now. Hold its lock. */
export async function checkConditions(
  ctx: Pick<OpsContext, 'store' | 'index' | 'config'>,
  file: ResolvedName,
  conditions: Conditions | undefined,
): Promise<void> {
  if (!hasConditions(conditions)) return
  const current = await currentTag(ctx, file)
  // Held only at other members: the condition is theirs to check, on the content they hold.
  if (current === undefined) {
    const moved = movedError(ctx, file.name)
    if (moved) throw moved
  }
  const { ifMatch, ifNoneMatch } = conditions
  if (ifMatch !== undefined) {
    const holds =
      ifMatch === '*' ? current !== undefined : current !== undefined && ifMatch.includes(current)
    if (!holds)
      throw new TandemError(
        'ERR_PRECONDITION',
        current === undefined
          ? `'${file.name}' does not exist (If-Match)`
          : `'${file.name}' has changed: its ETag is "${current}" (If-Match)`,
      )
  }
  if (ifNoneMatch !== undefined) {
    const fails =
      ifNoneMatch === '*'
        ? current !== undefined
        : current !== undefined && ifNoneMatch.includes(current)
    if (fails)
      throw new TandemError(
        'ERR_PRECONDITION',
        ifNoneMatch === '*'
          ? `'${file.name}' already exists (If-None-Match: *)`
          : `'${file.name}' still has that content (If-None-Match)`,
      )
  }
}

/** The current content's SHA-256, or undefined when there is no such file. */
async function currentTag(
  ctx: Pick<OpsContext, 'store' | 'index'>,
  file: ResolvedName,
): Promise<string | undefined> {
  if (!(await ctx.store.exists(file))) return undefined
  const { handle, identity, changedMs } = await ctx.store.openForRead(file)
  try {
    return await contentHash(ctx, file.name, handle, identity, changedMs, false)
  } finally {
    await handle.close()
  }
}
