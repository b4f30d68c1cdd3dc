/**
 * The request window: the request ids (rids) applied, each with the answer its client got, kept
 * for a bounded time so that a replay of one (a client that lost the answer, here or at another
 * member) gets that answer instead of a second application. One table of this shape lives in two
 * databases, each written by its own thread only:
 * - `index.db` (the sync worker): every rid that came with an index entry, this server's own
 *   (stored with the entry, in the entry's transaction) and the peers' (on arrival, with what the
 *   peer announced);
 * - `tandem.db` (the main thread): this server's own rids, written before the client is answered
 *   (requests/request-gate.ts), so a crash between the commit and the reply keeps it even when the
 *   scanner has not indexed the change yet.
 * Bounded per client (the rid's client part): the newest `perClient` rids (pruned every tenth
 * of that, so a client holds up to a fifth more for a while) and none older than `maxAgeMs`; and in all, the newest `TOTAL_RIDS` (a rid's client part is whatever the client
 * sends, so many made-up clients must not grow the tables for a whole day). A replay past the
 * window is a new request.
 */
import type { Statement } from 'better-sqlite3'
import type { IndexDb } from './database.js'

export interface RequestWindowBounds {
  /** Rids kept per client (the newest). */
  perClient: number
  /** Rids older than this (ms since recorded here) are forgotten. */
  maxAgeMs: number
  /** Rids kept in all (default TOTAL_RIDS). */
  total?: number
}

export const REQUEST_WINDOW: RequestWindowBounds = { perClient: 1_000, maxAgeMs: 24 * 3_600_000 }

/** Rids kept in all, whatever the clients (about 200 B a row: some 20 MiB per database). */
export const TOTAL_RIDS = 100_000
/** The overall bound is enforced every this many records at most (it may be passed by as many). */
const TOTAL_PRUNE_EVERY = 1_000

/**
 * What a rename names: both names joined by U+001F, a control character no name may hold, so that
 * two renames of other names never read alike (`a>b` to `c` and `a` to `b>c` would, joined by '>').
 */
export const RENAME_SEPARATOR = '\u001f'

export function renameTarget(from: string, to: string): string {
  return `${from}${RENAME_SEPARATOR}${to}`
}

/** A target as a message shows it (a rename's two names with an arrow between). */
export function describeTarget(target: string): string {
  // A lock by listing index: U+001F then `#N` (ops/user-locks.ts).
  if (target.startsWith(`${RENAME_SEPARATOR}#`)) return `listing index ${target.slice(2)}`
  return target.split(RENAME_SEPARATOR).join(' → ')
}

/** What a request names, compared on a replay: its name, or both names for a rename (renameTarget). */
export interface RequestTag {
  rid: string
  /** The operation (upload … delete, lock, unlock). */
  op: string
  target: string
}

export interface RequestRecord {
  rid: string
  op: string
  target: string
  result: unknown
  origin: string
  at: number
  /** The names it wrote, where known (this server's own requests, in tandem.db). */
  names?: string[] | undefined
}

/** The client part of a rid (CLIENT:SEQUENCE; the client part may hold colons). */
export function ridClient(rid: string): string {
  return rid.slice(0, Math.max(0, rid.lastIndexOf(':')))
}

interface Row {
  rid: string
  op: string
  target: string
  result: string
  origin: string
  at: number
  names: string | null
}

/** Prune by age at most this often. */
const AGE_PRUNE_EVERY_MS = 60_000
/**
 * A client's bound is enforced every tenth of it (its own records since its last prune), so a
 * client may hold up to that many rids past its bound. Pruning costs a walk of the client's
 * `perClient` newest rows in the index; on every insert it was a fifth of the main thread's time
 * during a `put` of many small files.
 */
const CLIENT_PRUNE_FRACTION = 10
/** Clients whose records since their last prune are counted (past this, the counts start over). */
const CLIENTS_COUNTED = 10_000

/** The table in one database, for its writing thread. */
export class RequestTable {
  readonly #q
  readonly #bounds: RequestWindowBounds
  readonly #now: () => number
  #agePrunedAt = 0
  #sinceTotalPrune = 0
  /** Per client: records since its last prune. */
  readonly #sinceClientPrune = new Map<string, number>()
  #lastAt = 0

  constructor(db: IndexDb, bounds: RequestWindowBounds = REQUEST_WINDOW, now = Date.now) {
    this.#bounds = bounds
    this.#now = now
    this.#q = {
      insert: db.prepare(
        `INSERT OR IGNORE INTO requests (rid, client, op, target, result, origin, at, names)
         VALUES (@rid, @client, @op, @target, @result, @origin, @at, @names)`,
      ),
      get: db.prepare<[string], Row>('SELECT * FROM requests WHERE rid = ?'),
      pruneClient: db.prepare(
        `DELETE FROM requests WHERE client = @client AND at <
           (SELECT at FROM requests WHERE client = @client ORDER BY at DESC LIMIT 1 OFFSET @keep)`,
      ),
      pruneAge: db.prepare('DELETE FROM requests WHERE at < ?'),
      pruneTotal: db.prepare<[number]>(
        `DELETE FROM requests WHERE at <
           (SELECT at FROM requests ORDER BY at DESC LIMIT 1 OFFSET ?)`,
      ),
      recent: db.prepare<[number, number], Row>(
        'SELECT * FROM requests WHERE at >= ? AND names IS NOT NULL ORDER BY at DESC LIMIT ?',
      ),
    }
  }

  /** Record a request (a rid already known keeps its first record). */
  record(request: Omit<RequestRecord, 'at'>): void {
    // Strictly increasing: the per-client bound keeps the newest by this order, ties none.
    const at = (this.#lastAt = Math.max(this.#now(), this.#lastAt + 1))
    const client = ridClient(request.rid)
    this.#q.insert.run({
      rid: request.rid,
      client,
      op: request.op,
      target: request.target,
      result: JSON.stringify(request.result),
      origin: request.origin,
      at,
      names: request.names && request.names.length > 0 ? JSON.stringify(request.names) : null,
    })
    this.#pruneClient(client)
    const total = this.#bounds.total ?? TOTAL_RIDS
    if (++this.#sinceTotalPrune >= Math.min(TOTAL_PRUNE_EVERY, total)) {
      this.#sinceTotalPrune = 0
      this.#q.pruneTotal.run(total - 1)
    }
    if (at - this.#agePrunedAt >= AGE_PRUNE_EVERY_MS) {
      this.#agePrunedAt = at
      this.#q.pruneAge.run(at - this.#bounds.maxAgeMs)
    }
  }

  #pruneClient(client: string): void {
    const { perClient } = this.#bounds
    const since = (this.#sinceClientPrune.get(client) ?? 0) + 1
    if (since < Math.max(1, Math.floor(perClient / CLIENT_PRUNE_FRACTION))) {
      if (this.#sinceClientPrune.size >= CLIENTS_COUNTED) this.#sinceClientPrune.clear()
      this.#sinceClientPrune.set(client, since)
      return
    }
    this.#sinceClientPrune.delete(client)
    this.#q.pruneClient.run({ client, keep: Math.max(0, perClient - 1) })
  }

  get(rid: string): RequestRecord | undefined {
    return readRow(this.#q.get.get(rid), this.#bounds, this.#now())
  }

  /** The newest requests in the window that wrote names (at most `limit`), newest first. */
  recent(limit: number): RequestRecord[] {
    const now = this.#now()
    return this.#q.recent
      .all(now - this.#bounds.maxAgeMs, limit)
      .map((row) => readRow(row, this.#bounds, now)!)
  }
}

/** A row as a record, unless it is past the window's age (not pruned yet). */
function readRow(
  row: Row | undefined,
  bounds: RequestWindowBounds,
  now: number,
): RequestRecord | undefined {
  if (!row || row.at < now - bounds.maxAgeMs) return undefined
  const { names, ...rest } = row
  return {
    ...rest,
    result: JSON.parse(row.result) as unknown,
    ...(names ? { names: JSON.parse(names) as string[] } : {}),
  }
}

const lookups = new WeakMap<IndexDb, Statement<[string], Row>>()

/** Look a rid up over a read-only connection (another thread's view of index.db). */
export function lookUpRequest(
  db: IndexDb | undefined,
  rid: string,
  bounds: RequestWindowBounds = REQUEST_WINDOW,
): RequestRecord | undefined {
  if (!db) return undefined
  let query = lookups.get(db)
  if (!query) {
    try {
      query = db.prepare<[string], Row>('SELECT * FROM requests WHERE rid = ?')
    } catch {
      return undefined // an index made by an older version, not migrated yet
    }
    lookups.set(db, query)
  }
  return readRow(query.get(rid), bounds, Date.now())
}
