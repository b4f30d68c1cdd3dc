/**
 * The composite listing (`ls`, `GET /list`): every file on this server's disk and every file a
 * peer announced, sorted by name, each with the servers that hold it and its user locks, and
 * whether the holders' copies are the same version (`differs`, with each copy when not).
 */
import {
  sameVersion,
  TandemError,
  type FileCopy,
  type FileRow,
  type ListResult,
} from '../../protocol/index.js'
import type { IndexedHash } from '../index/peer-holdings.js'
import type { FileIdentity } from '../storage/temp-file.js'
import { listFiles } from '../storage/listing.js'
import { withLock, type OpsContext } from './context.js'
import { isHeldElsewhere } from './moved.js'

/** A copy as first seen: this server's own carries its disk identity, to look its hash up. */
interface Seen extends FileCopy {
  identity?: FileIdentity
}

export async function list(
  ctx: Pick<OpsContext, 'config' | 'store' | 'index'>,
): Promise<ListResult> {
  const self = ctx.config.serverName
  const rows = new Map<string, { row: FileRow; copies: Seen[] }>()
  for (const entry of await listFiles(ctx.store.jail)) {
    const { name, size, mtime } = entry
    const row: FileRow = {
      index: 0,
      name,
      size,
      mtime,
      servers: [self],
      locked: false,
      locks: [],
      differs: false,
    }
    const own: Seen = { server: self, size, mtime }
    if (entry.kind === 'symlink') {
      row.kind = 'symlink'
      own.symlink = true
    } else own.identity = entry.identity
    rows.set(name, { row, copies: [own] })
  }
  for (const held of ctx.index.holdings()) {
    const mtime = Math.round(held.mtime)
    const copy: Seen = { server: held.peer, size: held.size, mtime }
    if (held.hash) copy.sha256 = held.hash
    const known = rows.get(held.name)
    if (!known) {
      const row: FileRow = {
        index: 0,
        name: held.name,
        size: held.size,
        mtime,
        servers: [held.peer],
        locked: false,
        locks: [],
        differs: false,
      }
      rows.set(held.name, { row, copies: [copy] })
      continue
    }
    const { row, copies } = known
    if (copies.some((c) => c.server === held.peer)) continue
    copies.push(copy)
    // A symlink here is not a copy of the peer's file: the row stays this server's link.
    if (row.kind === 'symlink') continue
    row.servers.push(held.peer)
    // A file only the peers hold is shown as its newest copy.
    if (!row.servers.includes(self) && mtime > row.mtime) {
      row.size = held.size
      row.mtime = mtime
    }
  }
  for (const lock of ctx.index.locks()) {
    const row = rows.get(lock.name)?.row
    if (!row) continue
    row.locked = true
    row.locks.push(lock)
  }
  // Read only when a name has two holders: a lone server's listing costs no query.
  let hashes: Map<string, IndexedHash> | undefined
  for (const { row, copies } of rows.values()) {
    if (copies.length < 2) continue
    hashes ??= ctx.index.indexedHashes()
    for (const copy of copies) {
      if (!copy.identity) continue
      // The index's hash holds for the file only if it still looks as it did when indexed.
      const known = hashes.get(row.name)
      if (known && sameIdentity(known.identity, copy.identity)) copy.sha256 = known.sha256
      delete copy.identity
    }
    // Every pair: without a hash on one side, "same" is not transitive (A matches B and C by
    // size and mtime while B's and C's hashes differ).
    if (copies.every((a, i) => copies.slice(i + 1).every((b) => sameVersion(a, b)))) continue
    row.differs = true
    row.copies = copies.sort((a, b) => (a.server < b.server ? -1 : 1))
  }
  const files = [...rows.values()]
    .map(({ row }) => row)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  files.forEach((row, index) => {
    row.index = index
    row.servers.sort()
  })
  return { files }
}

function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino
}

/**
 * One row of the listing: a file on this server's disk (checked under its read lock), or one the
 * index lists as held at other members.
 */
export async function stat(ctx: OpsContext, req: { name: string }): Promise<FileRow> {
  const file = await ctx.store.resolve(req.name)
  try {
    await withLock(ctx, [file.name], 'read', () => ctx.store.stat(file))
  } catch (err) {
    // Held only at other members (partial replication): its row, with them as its servers.
    if (!(err instanceof TandemError && err.code === 'ERR_NOT_FOUND')) throw err
    if (!isHeldElsewhere(ctx, file.name)) throw err
  }
  // The index is the row's position in the listing, as `ls` shows it.
  const row = (await list(ctx)).files.find((r) => r.name === file.name)
  if (!row) throw new TandemError('ERR_NOT_FOUND', `no file '${file.name}'`)
  return row
}
