/**
 * Partial replication (`--replicas`), as other threads read it from the sync worker's index: is
 * a name live here but held elsewhere (its row has no fingerprint: no copy on this disk), and
 * which members hold its version, with where a client reaches them (the `members` table). The
 * operations answer ERR_MOVED from it; it is asked only when a name is missing from the disk, so
 * a server holding every file never pays for it.
 */
import type { Holder } from '../../protocol/index.js'
import type { Statement } from 'better-sqlite3'
import type { IndexDb } from './database.js'
import { openIndexReader } from './database.js'

interface Queries {
  notHeld: Statement<[string], { hash: string | null }>
  member: Statement<[string], { address: string | null; http: string | null; up: number | null }>
  holders: Statement<[string, string], HolderRow>
  under: Statement<[string, string], { name: string }>
}

interface HolderRow {
  peer: string
  address: string | null
  http: string | null
  up: number | null
}

const readers = new Map<string, { db: IndexDb; queries: Queries | null }>()

/**
 * The members that hold the version of `name` the index lists, when the index lists it live
 * with no copy here; undefined when it is held here, deleted, or unknown. Members whose address
 * is not known are left out; those whose link from this server is up now come first, then those
 * known down, each the most recently seen first. [] when no reachable holder is known (the
 * operation then says so).
 */
export function heldElsewhere(stateDir: string, name: string): Holder[] | undefined {
  const queries = queriesFor(stateDir)
  if (!queries) return undefined
  const row = queries.notHeld.get(name)
  if (!row) return undefined
  if (row.hash === null) return []
  return queries.holders
    .all(name, row.hash)
    .filter((h): h is HolderRow & { address: string } => h.address !== null && h.address !== '')
    .map((h) =>
      h.http
        ? { name: h.peer, address: h.address, http: h.http, up: h.up === 1 }
        : { name: h.peer, address: h.address, up: h.up === 1 },
    )
}

/**
 * Where a client reaches the member `name` (the `members` table: its control address, and its
 * HTTP address when it serves HTTP, and whether this server's link to it is up now); undefined
 * when no address of it is known.
 */
export function memberAt(stateDir: string, name: string): Holder | undefined {
  const row = queriesFor(stateDir)?.member.get(name)
  if (!row?.address) return undefined
  const up = row.up === 1
  return row.http
    ? { name, address: row.address, http: row.http, up }
    : { name, address: row.address, up }
}

/**
 * The live names below the folder `folder` ('' for the root) that the index lists with no copy
 * on this disk, sorted: a folder operation here must carry them too (index-only).
 */
export function notHeldUnder(stateDir: string, folder: string): string[] {
  const queries = queriesFor(stateDir)
  if (!queries) return []
  const prefix = folder === '' ? '' : `${folder}/`
  // The range [prefix, prefix + U+10FFFF) is every name that starts with prefix (SQLite compares
  // TEXT bytewise, as UTF-8; no name contains that code point at its place).
  return queries.under
    .all(prefix, `${prefix}\u{10FFFF}`)
    .map((r) => r.name)
    .filter((n) => n.startsWith(prefix))
}

function queriesFor(stateDir: string): Queries | undefined {
  let reader = readers.get(stateDir)
  if (!reader) {
    const db = openIndexReader(stateDir)
    if (!db) return undefined
    reader = { db, queries: null }
    readers.set(stateDir, reader)
  }
  reader.queries ??= prepare(reader.db)
  return reader.queries ?? undefined
}

/** null when the index predates partial replication (no `held`, no `members`): nothing moved. */
function prepare(db: IndexDb): Queries | null {
  try {
    return {
      notHeld: db.prepare(
        'SELECT hash FROM files WHERE name = ? AND deleted = 0 AND fp_size IS NULL',
      ),
      member: db.prepare('SELECT address, http, up FROM members WHERE name = ?'),
      holders: db.prepare(
        `SELECT p.peer AS peer, m.address AS address, m.http AS http, m.up AS up FROM peer_files p
           LEFT JOIN members m ON m.name = p.peer
          WHERE p.name = ? AND p.hash = ? AND p.deleted = 0 AND p.held = 1
          ORDER BY m.up = 1 DESC, m.last_up IS NULL, m.last_up DESC, p.peer`,
      ),
      under: db.prepare(
        `SELECT name FROM files WHERE name >= ? AND name < ? AND deleted = 0 AND fp_size IS NULL
          ORDER BY name`,
      ),
    }
  } catch {
    return null
  }
}
