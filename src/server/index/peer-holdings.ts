/**
 * What the peers hold, read from the sync worker's index by other threads (session workers build
 * the composite listing from it). One read-only connection per thread, opened on first use.
 */
import type { IndexDb } from './database.js'
import { openIndexReader } from './database.js'

export interface Holding {
  peer: string
  name: string
  size: number
  mtime: number
}

const readers = new Map<string, IndexDb>()

/** Live files each peer last announced (empty before the sync worker made its index). */
export function peerHoldings(stateDir: string): Holding[] {
  let db = readers.get(stateDir)
  if (!db) {
    db = openIndexReader(stateDir)
    if (!db) return []
    readers.set(stateDir, db)
  }
  return db
    .prepare(
      // A name this server has deleted is not listed for a peer that has not applied the
      // delete yet (it will): a deleted file must not seem to linger in `ls`.
      `SELECT p.peer, p.name, p.size, p.mtime FROM peer_files p
         LEFT JOIN files f ON f.name = p.name
        WHERE p.deleted = 0 AND (f.deleted IS NULL OR f.deleted = 0)`,
    )
    .all() as Holding[]
}
