/**
 * A folder as one operation: `rm -r` deletes every file under it, `mv` moves it with one rename.
 * Both lock every file involved (write locks, one sorted request, so two folder operations can
 * never deadlock) and refuse the whole operation while any of those files is user-locked, by
 * anyone (a lock inside a folder holds the folder): nothing is deleted or moved then.
 */
import { TandemError, type DeleteResult, type RenameResult } from '../../protocol/index.js'
import type { TreeChange } from '../index/tree-change.js'
import { deleteTree, entriesUnder, kindOf, renameFolder } from '../storage/folders.js'
import type { ResolvedName } from '../storage/path-jail.js'
import type { OpsContext } from './context.js'
import { clashElsewhere, hasNotHeldUnder, isHeldElsewhere } from './moved.js'

/** Lists taken under the locks that found new files (made meanwhile) before giving up. */
const MAX_LOCK_ROUNDS = 5

export async function removeFolder(ctx: OpsContext, folder: ResolvedName): Promise<DeleteResult> {
  const files = await underLocks(
    ctx,
    folder,
    (names) => [folder.name, ...names],
    async ({ onDisk, elsewhere }) => {
      // The names held only at other members are deleted in the index alone (tombstones).
      await told(ctx, { kind: 'delete', names: [...onDisk, ...elsewhere] }, elsewhere)
      const deleted =
        (onDisk.length > 0 || (await kindOf(folder)) === 'folder'
          ? await deleteTree(ctx.store.jail, folder, onDisk)
          : 0) + elsewhere.length
      ctx.applied?.({ name: folder.name, files: deleted, folder: true })
      return deleted
    },
  )
  ctx.log({ op: 'delete', name: folder.name, detail: `folder, ${plural(files)}` }, true)
  return { name: folder.name, files, folder: true }
}

export async function renameFolderOp(
  ctx: OpsContext,
  from: ResolvedName,
  to: ResolvedName,
): Promise<RenameResult> {
  if (to.name === from.name || to.name.startsWith(`${from.name}/`))
    throw new TandemError(
      'ERR_BAD_PATH',
      `cannot move the folder '${from.name}' into itself ('${to.name}')`,
    )
  const moved = (name: string): string => to.name + name.slice(from.name.length)
  const files = await underLocks(
    ctx,
    from,
    (names) => [from.name, to.name, ...names, ...names.map(moved)],
    async ({ onDisk, elsewhere }) => {
      // Resolved and checked again under the locks, right before the move: the paths then hold
      // no symlink swapped in since the first look (renameFolder looks at `to` too).
      const source = await ctx.store.resolve(from.name, { follow: false })
      const target = await ctx.store.resolve(to.name, { follow: false })
      // A name held only at other members exists as much as one on this disk.
      if (
        (await ctx.store.exists(target)) ||
        isHeldElsewhere(ctx, to.name) ||
        hasNotHeldUnder(ctx, to.name)
      )
        throw new TandemError('ERR_EXISTS', `'${to.name}' already exists`)
      // Nor below a file held at other members (a folder made through it).
      const clash = clashElsewhere(ctx, to.name, 'ERR_EXISTS')
      if (clash) throw clash
      const names = [...onDisk, ...elsewhere]
      await told(
        ctx,
        { kind: 'rename', pairs: names.map((name) => ({ from: name, to: moved(name) })) },
        elsewhere,
      )
      // The names held only at other members are renamed in the index alone.
      if ((await kindOf(source)) === 'folder') await renameFolder(ctx.store.jail, source, target)
      ctx.applied?.({ from: from.name, to: to.name, files: names.length, folder: true })
      return names.length
    },
  )
  ctx.log({ op: 'rename', name: from.name, to: to.name, detail: `folder, ${plural(files)}` }, true)
  return { from: from.name, to: to.name, files, folder: true }
}

/** A folder's files: those on this disk, and those the index lists as held at other members. */
interface FolderEntries {
  onDisk: string[]
  elsewhere: string[]
}

async function folderEntries(ctx: OpsContext, folder: ResolvedName): Promise<FolderEntries> {
  const onDisk = await entriesUnder(ctx.store.jail, folder)
  const disk = new Set(onDisk)
  const elsewhere = (ctx.index.notHeldUnder?.(folder.name) ?? []).filter((n) => !disk.has(n))
  return { onDisk, elsewhere }
}

/**
 * Run `fn` with the folder's entries, holding write locks on `lockNames(entries)`. The entries
 * are listed, locked, and listed again under the locks: a file made in between (its lock not
 * taken) means another round, so that no file is ever changed without its lock. A folder whose
 * files are all held at other members (partial replication) need not be on this disk.
 */
async function underLocks<T>(
  ctx: OpsContext,
  folder: ResolvedName,
  lockNames: (entries: string[]) => string[],
  fn: (entries: FolderEntries) => Promise<T>,
): Promise<T> {
  const all = (e: FolderEntries): string[] => [...e.onDisk, ...e.elsewhere]
  let entries = all(await folderEntries(ctx, folder))
  for (let round = 1; ; round++) {
    const locked = new Set(lockNames(entries))
    const release = await ctx.lock([...locked], 'write', 'folder')
    let acted = false // once `fn` runs, some of the names may have changed, even if it fails
    try {
      const now = await folderEntries(ctx, folder)
      if ((await kindOf(folder)) !== 'folder' && now.elsewhere.length === 0)
        throw new TandemError('ERR_NOT_FOUND', `no folder '${folder.name}'`)
      if (all(now).every((name) => locked.has(name))) {
        acted = true
        return await fn(now)
      }
      entries = all(now)
    } finally {
      await release(acted)
    }
    if (round >= MAX_LOCK_ROUNDS)
      throw new TandemError(
        'ERR_TIMEOUT',
        `files keep appearing in '${folder.name}' while it is being locked; try again`,
      )
  }
}

/**
 * Tell the sync worker, and wait for its answer. The names held only at other members change
 * nothing on this disk: the sync worker's record is all there is of their delete or rename, so
 * it must be stored before the operation acts and answers (if it cannot be, the operation fails
 * with nothing changed). The files on this disk are found by the scanner anyway (at the next
 * start's inventory, if the sync worker has stopped meanwhile): without names held elsewhere, a
 * tree change that could not be told does not stop the operation, as before.
 */
async function told(ctx: OpsContext, change: TreeChange, elsewhere: string[]): Promise<void> {
  const answered = ctx.treeChange(change)
  await (elsewhere.length > 0 ? answered : answered.catch(() => undefined))
}

function plural(files: number): string {
  return files === 1 ? '1 file' : `${files} files`
}
