/**
 * Where set-aside entries live: rows in the sync worker's index database, written in the same
 * WAL as the peer progress that moves past them, so a restart (or kill -9) keeps every one.
 */
import type { IndexDb } from '../index/database.js'
import type { FileEntry } from '../index/entry.js'

/** A peer's entry that could not be applied here yet, and why. */
export interface SetAsideRow {
  peer: string
  entry: FileEntry
  code: string
  reason: string
  /** ms since the epoch: when it was first set aside. */
  since: number
  attempts: number
  /** ms since the epoch: when it is tried again at the latest. */
  nextAt: number
}

interface Row {
  peer: string
  name: string
  entry: string
  code: string
  reason: string
  since: number
  attempts: number
  next_at: number
}

export class SetAsideStore {
  readonly #s

  constructor(db: IndexDb) {
    this.#s = {
      all: db.prepare<[], Row>('SELECT * FROM set_aside ORDER BY since, name'),
      put: db.prepare<[string, string, string, string, string, number, number, number]>(
        `INSERT OR REPLACE INTO set_aside (peer, name, entry, code, reason, since, attempts, next_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      remove: db.prepare<[string, string]>('DELETE FROM set_aside WHERE peer = ? AND name = ?'),
    }
  }

  all(): SetAsideRow[] {
    return this.#s.all.all().map(fromRow)
  }

  put(row: SetAsideRow): void {
    const { peer, entry } = row
    this.#s.put.run(
      peer,
      entry.name,
      JSON.stringify(entry),
      row.code,
      row.reason,
      row.since,
      row.attempts,
      row.nextAt,
    )
  }

  remove(peer: string, name: string): void {
    this.#s.remove.run(peer, name)
  }
}

function fromRow(row: Row): SetAsideRow {
  return {
    peer: row.peer,
    entry: JSON.parse(row.entry) as FileEntry,
    code: row.code,
    reason: row.reason,
    since: row.since,
    attempts: row.attempts,
    nextAt: row.next_at,
  }
}
