/**
 * The composite listing (`ls`, `GET /list`): every file on this server's disk and every file a
 * peer announced, sorted by name, each with the servers that hold it and its user locks.
 */
import { TandemError, type FileRow, type ListResult } from '../../protocol/index.js'
import { listFiles } from '../storage/listing.js'
import { withLock, type OpsContext } from './context.js'

export async function list(
  ctx: Pick<OpsContext, 'config' | 'store' | 'index'>,
): Promise<ListResult> {
  const self = ctx.config.serverName
  const rows = new Map<string, FileRow>()
  for (const file of await listFiles(ctx.store.jail))
    rows.set(file.name, { index: 0, ...file, servers: [self], locked: false, locks: [] })
  for (const held of ctx.index.holdings()) {
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
  for (const lock of ctx.index.locks()) {
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

/** One row of the listing: a file on this server's disk (checked under its read lock). */
export async function stat(ctx: OpsContext, req: { name: string }): Promise<FileRow> {
  const file = await ctx.store.resolve(req.name)
  await withLock(ctx, [file.name], 'read', () => ctx.store.stat(file))
  // The index is the row's position in the listing, as `ls` shows it.
  const row = (await list(ctx)).files.find((r) => r.name === file.name)
  if (!row) throw new TandemError('ERR_NOT_FOUND', `no file '${file.name}'`)
  return row
}
