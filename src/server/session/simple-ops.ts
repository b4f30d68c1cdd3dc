/**
 * Operations without a body: list, stat, rename, delete. Each takes its locks, acts through the
 * file store, records itself, and returns its result.
 */
import {
  TandemError,
  normalizeName,
  type DeleteResult,
  type FileRow,
  type ListResult,
  type RenameResult,
  type RequestOf,
} from '../../protocol/index.js'
import { listFiles } from '../storage/listing.js'
import { withLock, type SessionContext } from './context.js'

export async function list(ctx: SessionContext): Promise<ListResult> {
  const files = await listFiles(ctx.store.jail)
  return {
    files: files.map((file, index): FileRow => ({
      index,
      ...file,
      servers: [ctx.config.serverName],
      locked: false,
    })),
  }
}

export async function stat(ctx: SessionContext, req: RequestOf<'stat'>): Promise<FileRow> {
  const file = await ctx.store.resolve(req.name)
  await withLock(ctx, [file.name], 'read', () => ctx.store.stat(file))
  // The index is the row's position in the listing, as `ls` shows it.
  const row = (await list(ctx)).files.find((r) => r.name === file.name)
  if (!row) throw new TandemError('ERR_NOT_FOUND', `no file '${file.name}'`)
  return row
}

export async function rename(ctx: SessionContext, req: RequestOf<'rename'>): Promise<RenameResult> {
  const fromName = normalizeName(req.from)
  const toName = normalizeName(req.to)
  // Resolved under the locks, right before use: the paths then hold no symlink to re-point.
  await withLock(ctx, [fromName, toName], 'write', async () => {
    const from = await ctx.store.resolve(fromName, { follow: false })
    const to = await ctx.store.resolve(toName, { follow: false })
    await ctx.store.rename(from, to)
  })
  ctx.log({ op: 'rename', name: fromName, to: toName }, true)
  return { from: fromName, to: toName }
}

export async function remove(ctx: SessionContext, req: RequestOf<'delete'>): Promise<DeleteResult> {
  const name = normalizeName(req.name)
  await withLock(ctx, [name], 'write', async () =>
    ctx.store.delete(await ctx.store.resolve(name, { follow: false })),
  )
  ctx.log({ op: 'delete', name }, true)
  return { name }
}
