/**
 * Rename and delete: each takes its locks, acts through the file store, records itself, and
 * returns its result.
 */
import { normalizeName, type DeleteResult, type RenameResult } from '../../protocol/index.js'
import { checkConditions, type Conditions } from './conditions.js'
import { withLock, type OpsContext } from './context.js'

export async function rename(
  ctx: OpsContext,
  req: { from: string; to: string },
): Promise<RenameResult> {
  const fromName = normalizeName(req.from)
  const toName = normalizeName(req.to)
  // Resolved under the locks, right before use: the paths then hold no symlink to re-point.
  await withLock(
    ctx,
    [fromName, toName],
    'write',
    async () => {
      const from = await ctx.store.resolve(fromName, { follow: false })
      const to = await ctx.store.resolve(toName, { follow: false })
      await ctx.store.rename(from, to)
    },
    'rename',
  )
  ctx.log({ op: 'rename', name: fromName, to: toName }, true)
  return { from: fromName, to: toName }
}

export async function remove(
  ctx: OpsContext,
  req: { name: string },
  conditions?: Conditions,
): Promise<DeleteResult> {
  const name = normalizeName(req.name)
  await withLock(ctx, [name], 'write', async () => {
    const file = await ctx.store.resolve(name, { follow: false })
    await checkConditions(ctx, file, conditions)
    await ctx.store.delete(file)
  })
  ctx.log({ op: 'delete', name }, true)
  return { name }
}
