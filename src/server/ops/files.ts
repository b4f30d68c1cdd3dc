/**
 * Rename and delete: each takes its locks, acts through the file store, records itself, and
 * returns its result. A folder is handed to the folder operations (folders.ts).
 */
import {
  TandemError,
  normalizeName,
  type DeleteResult,
  type RenameResult,
} from '../../protocol/index.js'
import { checkConditions, hasConditions, type Conditions } from './conditions.js'
import { withLock, type OpsContext } from './context.js'
import { kindOf } from '../storage/folders.js'
import { removeFolder, renameFolderOp } from './folders.js'
import { once } from './once.js'
import { renameTarget } from '../index/request-window.js'
import { forwardRequest, refuseConditions, ridOf } from './forwarding.js'
import { clashElsewhere, hasNotHeldUnder, isHeldElsewhere, orMoved } from './moved.js'

export async function rename(
  ctx: OpsContext,
  req: { from: string; to: string; rid?: string | undefined },
): Promise<RenameResult> {
  const fromName = normalizeName(req.from)
  const toName = normalizeName(req.to)
  // A replay of an applied rename is answered as it was (not ERR_NOT_FOUND): once.ts. First, so a
  // secondary answers a replay it knows of before forwarding.
  return once(ctx, req.rid, 'rename', renameTarget(fromName, toName), (c) =>
    c.forward
      ? forwardRequest(
          c,
          c.forward,
          { op: 'rename', from: fromName, to: toName, ...ridOf(req) },
          { name: fromName, to: toName },
        )
      : renameNames(c, fromName, toName),
  )
}

async function renameNames(
  ctx: OpsContext,
  fromName: string,
  toName: string,
): Promise<RenameResult> {
  // Resolved under the locks, right before use: the paths then hold no symlink to re-point.
  const folder = await withLock(
    ctx,
    [fromName, toName],
    'write',
    async () => {
      const from = await ctx.store.resolve(fromName, { follow: false })
      const to = await ctx.store.resolve(toName, { follow: false })
      const kind = await kindOf(from)
      if (kind === 'folder' || (kind === 'absent' && hasNotHeldUnder(ctx, from.name)))
        return { from, to }
      // A name held only at other members exists as much as one on this disk.
      if (isHeldElsewhere(ctx, to.name))
        throw new TandemError('ERR_EXISTS', `'${to.name}' already exists`)
      // Nor may it become a file where they have a folder, or a folder below their file.
      if ((await kindOf(to)) === 'absent') {
        const clash = clashElsewhere(ctx, to.name, 'ERR_EXISTS')
        if (clash) throw clash
      }
      await orMoved(ctx, from.name, () => ctx.store.rename(from, to))
      ctx.applied?.({ from: fromName, to: toName })
      return undefined
    },
    'rename',
  )
  // A folder takes the locks of every file in it (folders.ts).
  if (folder) return renameFolderOp(ctx, folder.from, folder.to)
  ctx.log({ op: 'rename', name: fromName, to: toName }, true)
  return { from: fromName, to: toName }
}

export async function remove(
  ctx: OpsContext,
  req: { name: string; recursive?: boolean | undefined; rid?: string | undefined },
  conditions?: Conditions,
): Promise<DeleteResult> {
  const name = normalizeName(req.name)
  // A replay of an applied delete is answered as it was (not ERR_NOT_FOUND): once.ts.
  return once(ctx, req.rid, 'delete', name, (c) => {
    if (!c.forward) return removeName(c, name, req.recursive === true, conditions)
    refuseConditions(c.forward, conditions)
    const recursive = req.recursive === undefined ? {} : { recursive: req.recursive }
    return forwardRequest(
      c,
      c.forward,
      { op: 'delete', name, ...recursive, ...ridOf(req) },
      { name },
    )
  })
}

async function removeName(
  ctx: OpsContext,
  name: string,
  recursive: boolean,
  conditions: Conditions | undefined,
): Promise<DeleteResult> {
  const folder = await withLock(ctx, [name], 'write', async () => {
    const file = await ctx.store.resolve(name, { follow: false })
    const kind = await kindOf(file)
    // A folder whose files are all held at other members is still a folder here (index only).
    if (kind === 'folder' || (kind === 'absent' && hasNotHeldUnder(ctx, file.name))) {
      if (!recursive)
        throw new TandemError(
          'ERR_IS_DIRECTORY',
          `'${name}' is a folder; delete it with rm -r (recursive)`,
        )
      if (hasConditions(conditions))
        throw new TandemError('ERR_BAD_REQUEST', `'${name}' is a folder: it has no ETag to match`)
      return file
    }
    await checkConditions(ctx, file, conditions)
    await orMoved(ctx, file.name, () => ctx.store.delete(file))
    ctx.applied?.({ name })
    return undefined
  })
  // A folder takes the locks of every file in it (folders.ts).
  if (folder) return removeFolder(ctx, folder)
  ctx.log({ op: 'delete', name }, true)
  return { name }
}
