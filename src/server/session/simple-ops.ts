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
import { knownLocks, peerHoldings } from '../index/peer-holdings.js'
import { listFiles } from '../storage/listing.js'
import { withLock, type SessionContext } from './context.js'

/**
 * The composite listing: every file on this server's disk and every file a peer
 * announced, sorted by name, each with the servers that hold it.
 */
export async function list(ctx: SessionContext): Promise<ListResult> {
  const self = ctx.config.serverName
  const rows = new Map<string, FileRow>()
  for (const file of await listFiles(ctx.store.jail))
    rows.set(file.name, { index: 0, ...file, servers: [self], locked: false, locks: [] })
  const holdings = peerHoldings(ctx.config.stateDir)
  for (const held of holdings) {
    const row = rows.get(held.name)
    if (row) {
      if (!row.servers.includes(held.peer)) row.servers.push(held.peer)
    } else {
      const { name, size } = held
      rows.set(name, {
        index: 0,
        name,
        size,
        mtime: Math.round(held.mtime),
        servers: [held.peer],
        locked: false,
        locks: [],
      })
    }
  }
  for (const lock of knownLocks(ctx.config.stateDir, self)) {
    const row = rows.get(lock.name)
    if (!row) continue
    row.locked = true
    row.locks.push(lock)
  }
  const files = [...rows.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  files.forEach((row, index) => {
    row.index = index
    row.servers.sort()
  })
  return { files }
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

export async function remove(ctx: SessionContext, req: RequestOf<'delete'>): Promise<DeleteResult> {
  const name = normalizeName(req.name)
  await withLock(ctx, [name], 'write', async () =>
    ctx.store.delete(await ctx.store.resolve(name, { follow: false })),
  )
  ctx.log({ op: 'delete', name }, true)
  return { name }
}
