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
    .prepare('SELECT peer, name, size, mtime FROM peer_files WHERE deleted = 0')
    .all() as Holding[]
}
