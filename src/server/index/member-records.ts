/**
 * The `members` table of index.db: every member this server has linked with — its control
 * address (HOST:PORT), its HTTP address when it serves HTTP, its capacity in GiB (the placement
 * weight), whether its link is up now, and when it was last up. Written only by the sync worker:
 * every member down at its start, then each link-up (with the welcome's fields) and link-down;
 * read by the replication view at start (a member remembered but not seen since counts as down
 * since this start) and by other threads through a read-only connection (`readMemberRecords`:
 * the holders' addresses of ERR_MOVED).
 */
import type { IndexDb } from './database.js'

export interface MemberRecord {
  name: string
  /** HOST:PORT of its control port. */
  address: string
  /** HOST:PORT of its HTTP API, or null when it has none (or it was never told). */
  http: string | null
  /** File-system capacity in GiB, when it told it. */
  capacity: number | null
  /** ms since the epoch: when it was last up (linked). */
  lastUp: number | null
  /** Its link from this server is up now. */
  up: boolean
}

/** What a link-up tells of a member: an absent field keeps what was recorded. */
export interface MemberUp {
  name: string
  address: string
  /** null: it serves no HTTP; undefined: not told. */
  http?: string | null | undefined
  capacity?: number | null | undefined
}

interface Row {
  name: string
  address: string
  http: string | null
  capacity: number | null
  last_up: number | null
  up: number
}

export class MemberRecords {
  readonly #db: IndexDb
  readonly #up
  readonly #seen
  readonly #allDown

  constructor(db: IndexDb) {
    this.#db = db
    this.#up = db.prepare(
      `INSERT INTO members (name, address, http, capacity, last_up, up)
       VALUES (@name, @address, @http, @capacity, @now, 1)
       ON CONFLICT (name) DO UPDATE SET
         address = excluded.address,
         http = CASE WHEN @httpTold THEN excluded.http ELSE members.http END,
         capacity = CASE WHEN @capacityTold THEN excluded.capacity ELSE members.capacity END,
         last_up = excluded.last_up,
         up = 1`,
    )
    this.#seen = db.prepare('UPDATE members SET last_up = ?, up = 0 WHERE name = ?')
    this.#allDown = db.prepare('UPDATE members SET up = 0 WHERE up <> 0')
  }

  /** No link is up yet (this server's start: a crash may have left members recorded up). */
  allDown(): void {
    this.#allDown.run()
  }

  /** `m` is up now (link-up, welcome). */
  up(m: MemberUp, now = Date.now()): void {
    this.#up.run({
      name: m.name,
      address: m.address,
      http: m.http ?? null,
      capacity: m.capacity ?? null,
      httpTold: m.http === undefined ? 0 : 1,
      capacityTold: m.capacity === undefined ? 0 : 1,
      now,
    })
  }

  /** `name` was up until now (its link just went down): recorded down, last up now. */
  seen(name: string, now = Date.now()): void {
    this.#seen.run(now, name)
  }

  all(): MemberRecord[] {
    return readMemberRecords(this.#db)
  }

  get(name: string): MemberRecord | undefined {
    return this.all().find((m) => m.name === name)
  }
}

/** Every member record (works on a read-only connection; [] on a database without the table). */
export function readMemberRecords(db: IndexDb): MemberRecord[] {
  try {
    const rows = db
      .prepare('SELECT name, address, http, capacity, last_up, up FROM members ORDER BY name')
      .all() as Row[]
    return rows.map((r) => ({
      name: r.name,
      address: r.address,
      http: r.http,
      capacity: r.capacity,
      lastUp: r.last_up,
      up: r.up === 1,
    }))
  } catch {
    return []
  }
}
