/**
 * The persistent change log (`log`): every operation, with time, server and client.
 * Lives in the main thread with the database; subscribers (sessions following the log) are told
 * of each new entry as it is written.
 */
import type { LocalChangeKind, LogEntry } from '../../protocol/index.js'
import type { Db } from './database.js'

/** What a caller records; the log adds seq, time and server. */
export interface LogInput {
  op: string
  name?: string | null | undefined
  to?: string | null | undefined
  client?: string | null | undefined
  size?: number | null | undefined
  detail?: string | null | undefined
  what?: LocalChangeKind | undefined
  bytes?: number | undefined
}

/** What a reader asks of the log: entries after `since`, or (without it) the newest. */
export interface LogQuery {
  since?: number | undefined
  limit: number
}

/** Entries held in memory while the database refuses writes (disk full). */
const MAX_PENDING = 10_000

/** Entries kept; older ones are pruned now and then. */
const KEEP_ENTRIES = 100_000

interface Row {
  seq: number
  time: number
  server: string
  op: string
  name: string | null
  new_name: string | null
  client: string | null
  size: number | null
  detail: string | null
  what: string | null
  bytes: number | null
}

export class ChangeLog {
  readonly #server: string
  readonly #insert
  readonly #recent
  readonly #after
  readonly #prune
  readonly #subscribers = new Set<(entry: LogEntry) => void>()
  readonly #insertAll: (pending: { time: number; input: LogInput }[]) => LogEntry[]
  #pending: { time: number; input: LogInput }[] = []
  #sincePrune = 0

  constructor(
    db: Db,
    server: string,
    private readonly onError: (err: unknown) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.#server = server
    this.#insert = db.prepare<
      [
        number,
        string,
        string,
        string | null,
        string | null,
        string | null,
        number | null,
        string | null,
        string | null,
        number | null,
      ]
    >(
      'INSERT INTO change_log (time, server, op, name, new_name, client, size, detail, what, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    )
    this.#recent = db.prepare<[number], Row>('SELECT * FROM change_log ORDER BY seq DESC LIMIT ?')
    this.#after = db.prepare<[number, number], Row>(
      'SELECT * FROM change_log WHERE seq > ? ORDER BY seq LIMIT ?',
    )
    this.#prune = db.prepare<[number]>(
      'DELETE FROM change_log WHERE seq <= (SELECT MAX(seq) FROM change_log) - ?',
    )
    this.#insertAll = db.transaction((pending: { time: number; input: LogInput }[]) =>
      pending.map((p) => this.#insertOne(p.time, p.input)),
    )
  }

  /**
   * Record an operation. Entries of one turn of the event loop are inserted in one transaction
   * (then told to subscribers): a burst of small uploads costs one commit, not one per file.
   */
  append(input: LogInput): void {
    if (this.#pending.length === 0) setImmediate(() => this.flush())
    this.#pending.push({ time: this.now(), input })
  }

  /** Write what is pending now (also before reads and at shutdown). */
  flush(): void {
    const pending = this.#pending
    if (pending.length === 0) return
    this.#pending = []
    let entries: LogEntry[]
    try {
      entries = this.#insertAll(pending)
    } catch (err) {
      // A full disk must not take the server down: keep the entries (bounded) and try later.
      this.#pending = [...pending, ...this.#pending].slice(-MAX_PENDING)
      this.onError(err)
      setTimeout(() => this.flush(), 1_000).unref()
      return
    }
    if (++this.#sincePrune >= 100) {
      this.#sincePrune = 0
      this.#prune.run(KEEP_ENTRIES)
    }
    for (const entry of entries) for (const subscriber of this.#subscribers) subscriber(entry)
  }

  #insertOne(time: number, input: LogInput): LogEntry {
    const row = [
      time,
      this.#server,
      input.op,
      input.name ?? null,
      input.to ?? null,
      input.client ?? null,
      input.size ?? null,
      input.detail ?? null,
      input.what ?? null,
      input.bytes ?? null,
    ] as const
    const info = this.#insert.run(...row)
    return toEntry({
      seq: Number(info.lastInsertRowid),
      time,
      server: this.#server,
      op: input.op,
      name: row[3],
      new_name: row[4],
      client: row[5],
      size: row[6],
      detail: row[7],
      what: row[8],
      bytes: row[9],
    })
  }

  /** The newest `limit` entries, oldest first. */
  recent(limit: number): LogEntry[] {
    this.flush()
    return this.#recent.all(limit).reverse().map(toEntry)
  }

  /** At most `limit` entries after `seq`, oldest first. */
  after(seq: number, limit: number): LogEntry[] {
    this.flush()
    return this.#after.all(seq, limit).map(toEntry)
  }

  /** Entries after `since` when given, else the newest; oldest first. */
  query(query: LogQuery): LogEntry[] {
    return query.since === undefined
      ? this.recent(query.limit)
      : this.after(query.since, query.limit)
  }

  subscribe(listener: (entry: LogEntry) => void): () => void {
    this.#subscribers.add(listener)
    return () => this.#subscribers.delete(listener)
  }
}

/** An entry as clients see it: `what` and `bytes` only where they mean something. */
function toEntry(row: Row): LogEntry {
  const entry: LogEntry = {
    seq: row.seq,
    time: row.time,
    server: row.server,
    op: row.op,
    name: row.name,
    to: row.new_name,
    client: row.client,
    size: row.size,
    detail: row.detail,
  }
  if (row.what !== null) entry.what = row.what as LocalChangeKind
  if (row.bytes !== null) entry.bytes = row.bytes
  return entry
}
