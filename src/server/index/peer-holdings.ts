/**
 * What the peers hold and which files are locked, read from the sync worker's index by other
 * threads (session workers build the composite listing from it). One read-only connection per
 * thread, opened on first use.
 */
import type { UserLock } from '../../protocol/index.js'
import type { Statement } from 'better-sqlite3'
import type { IndexDb } from './database.js'
import { openIndexReader } from './database.js'
import { lookUpRequest, type RequestRecord } from './request-window.js'

export interface Holding {
  peer: string
  name: string
  size: number
  mtime: number
  /** Hex SHA-256 of the version the peer announced. */
  hash: string | null
}

const readers = new Map<string, IndexDb>()

/**
 * Live files each peer last announced holding (empty before the sync worker made its index). A
 * peer that knows of a file held elsewhere (--replicas) announces it as not held: it is not one
 * of the file's servers.
 */
export function peerHoldings(stateDir: string): Holding[] {
  const db = reader(stateDir)
  if (!db) return []
  return db
    .prepare(
      // A name this server has deleted is not listed for a peer that has not applied the
      // delete yet (it will): a deleted file must not seem to linger in `ls`.
      `SELECT p.peer, p.name, p.size, p.mtime, p.hash FROM peer_files p
         LEFT JOIN files f ON f.name = p.name
        WHERE p.deleted = 0 AND p.held = 1 AND (f.deleted IS NULL OR f.deleted = 0)`,
    )
    .all() as Holding[]
}

/** User locks held here (as server `self`) and those the peers announced: this server's first. */
export function knownLocks(stateDir: string, self: string): UserLock[] {
  const db = reader(stateDir)
  if (!db) return []
  const own = db
    .prepare(
      `SELECT l.name, l.owner, l.since, l.expires AS expiresAt,
              (SELECT COUNT(*) FROM lock_queue q WHERE q.name = l.name) AS queued
         FROM user_locks l ORDER BY l.name`,
    )
    .all() as Omit<UserLock, 'server'>[]
  // A peer's lock past its time is not shown: it ends there as soon as that peer runs.
  const theirs = db
    .prepare(
      `SELECT peer AS server, name, owner, since, expires AS expiresAt, queued FROM peer_locks
        WHERE expires IS NULL OR expires > ? ORDER BY peer, name`,
    )
    .all(Date.now()) as UserLock[]
  return [...own.map((l) => ({ ...l, server: self })), ...theirs]
}

/** The owner of the user lock on `name` here, if any (a cheap early check before a body). */
export function lockOwner(stateDir: string, name: string): string | undefined {
  const db = reader(stateDir)
  if (!db) return undefined
  // Prepared once per connection: every upload, write and append asks.
  let query = ownerQueries.get(db)
  if (!query) {
    query = db.prepare<[string], { owner: string }>('SELECT owner FROM user_locks WHERE name = ?')
    ownerQueries.set(db, query)
  }
  return query.get(name)?.owner
}

const ownerQueries = new WeakMap<IndexDb, Statement<[string], { owner: string }>>()

interface HashRow {
  hash: string | null
  fp_size: number | null
  fp_mtime: number | null
  fp_ino: number | null
}
const hashQueries = new WeakMap<IndexDb, Statement<[string], HashRow>>()

/**
 * The SHA-256 the index holds for `name`, when the file it indexed has this identity (size,
 * mtime, inode) still: a file changed since it was indexed has no known hash.
 */
export function knownHash(
  stateDir: string,
  name: string,
  identity: { size: number; mtimeMs: number; ino: number },
): string | undefined {
  const db = reader(stateDir)
  if (!db) return undefined
  let query = hashQueries.get(db)
  if (!query) {
    query = db.prepare<[string], HashRow>(
      'SELECT hash, fp_size, fp_mtime, fp_ino FROM files WHERE name = ? AND deleted = 0',
    )
    hashQueries.set(db, query)
  }
  const row = query.get(name)
  if (!row?.hash) return undefined
  const same =
    row.fp_size === identity.size &&
    row.fp_mtime === identity.mtimeMs &&
    row.fp_ino === identity.ino
  return same ? row.hash : undefined
}

/** What the index knows of a file here: its SHA-256, for the identity it was indexed with. */
export interface IndexedHash {
  sha256: string
  identity: { size: number; mtimeMs: number; ino: number }
}

/**
 * Every live file's SHA-256 and indexed identity, in one pass (the listing compares copies with
 * it: one query for thousands of names, where a look-up per name took about twice as long).
 */
export function indexedHashes(stateDir: string): Map<string, IndexedHash> {
  const known = new Map<string, IndexedHash>()
  const db = reader(stateDir)
  if (!db) return known
  const rows = db
    .prepare(
      `SELECT name, hash, fp_size, fp_mtime, fp_ino FROM files
        WHERE deleted = 0 AND hash IS NOT NULL AND fp_size IS NOT NULL`,
    )
    .all() as (HashRow & { name: string; hash: string })[]
  for (const row of rows)
    known.set(row.name, {
      sha256: row.hash,
      identity: { size: row.fp_size!, mtimeMs: row.fp_mtime!, ino: row.fp_ino! },
    })
  return known
}

/** A request id recorded in the index (request-window.ts), with its answer. */
export function indexedRequest(stateDir: string, rid: string): RequestRecord | undefined {
  return lookUpRequest(reader(stateDir), rid)
}

function reader(stateDir: string): IndexDb | undefined {
  let db = readers.get(stateDir)
  if (!db) {
    db = openIndexReader(stateDir)
    if (!db) return undefined
    readers.set(stateDir, db)
  }
  return db
}
