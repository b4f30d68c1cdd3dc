/**
 * Entries set aside (issue: mirroring never stalls). A peer's entry that cannot be applied here —
 * a file where the peer has a folder, no space for it, a permission error, a name this file
 * system refuses — must not hold back the rest of that peer's stream. The applier hands it here
 * with its reason; it is kept (a row in index.db), so the peer's progress can move past it and
 * nothing is lost, and tried again: with backoff, and at once when something changes that might
 * unblock it (the name, a folder above it or a file below it changed here, space was freed). A
 * newer version of the name from the same peer replaces it; once an attempt applies it (or finds
 * it superseded), it is cleared. The console says each once, and again when it clears.
 */
import type { SetAsideEntry } from '../../protocol/index.js'
import type { FileEntry } from '../index/entry.js'
import type { PeerSource } from './peer-source.js'
import type { SetAsideRow, SetAsideStore } from './set-aside-store.js'

const RETRY_MIN_MS = 1_000
const RETRY_MAX_MS = 60_000 // 1 min
const NUDGE_GAP_MS = 250 // a row tried this recently is not nudged again (no hot loop)
const SPACE_POLL_MS = 1_000 // while something waits for space

export interface SetAsideEvent {
  op: 'sync-blocked' | 'sync-cleared'
  name: string
  peer: string
  detail: string
}

export interface SetAsideOptions {
  store: SetAsideStore
  /**
   * Apply these entries of `peer` again, reporting with a source that carries `generation`;
   * throws when the attempt as a whole failed.
   */
  retry(peer: string, entries: FileEntry[], generation: number): Promise<void>
  /** Bytes free for the data directory (to retry what waits for space when it grows). */
  freeBytes(): Promise<number>
  report(event: SetAsideEvent): void
  now?: () => number
}

export class SetAside {
  readonly #o: SetAsideOptions
  readonly #now: () => number
  readonly #tried = new Map<string, number>() // key → when last attempted
  /** The store's rows, in memory (every change written through): no query per change here. */
  readonly #rows = new Map<string, SetAsideRow>()
  #timer: NodeJS.Timeout | undefined
  #spacePoll: NodeJS.Timeout | undefined
  #lastFree = -1
  #running = false
  #again = false
  /** Per peer: bumped when the peer starts a new epoch (its old numbers mean nothing now). */
  readonly #generation = new Map<string, number>()
  #started = false // retries run only once started (rows may be added before)
  #stopped = false

  constructor(options: SetAsideOptions) {
    this.#o = options
    this.#now = options.now ?? Date.now
    for (const row of options.store.all()) this.#rows.set(key(row.peer, row.entry.name), row)
  }

  #put(row: SetAsideRow): void {
    this.#rows.set(key(row.peer, row.entry.name), row)
    this.#o.store.put(row)
  }

  #remove(peer: string, name: string): void {
    this.#rows.delete(key(peer, name))
    this.#tried.delete(key(peer, name))
    this.#o.store.remove(peer, name)
  }

  /** Start retrying (rows kept from before a restart included). */
  start(): void {
    this.#started = true
    this.#schedule()
  }

  stop(): void {
    this.#stopped = true
    clearTimeout(this.#timer)
    clearInterval(this.#spacePoll)
    this.#spacePoll = undefined
  }

  /** `entry` from `peer` could not be applied: keep it, with why, and try it again later. */
  add(source: PeerSource, entry: FileEntry, err: unknown): void {
    const peer = source.name
    if (this.#stopped || this.#outdated(source)) return
    const existing = this.#rows.get(key(peer, entry.name))
    if (existing && existing.entry.seq > entry.seq) return // a newer one already waits
    const now = this.#now()
    const attempts = existing?.entry.seq === entry.seq ? existing.attempts + 1 : 1
    const { code, reason } = describe(err)
    this.#put({
      peer,
      entry,
      code,
      reason,
      since: existing?.since ?? now,
      attempts,
      nextAt: now + backoff(attempts),
    })
    this.#tried.set(key(peer, entry.name), now)
    if (!existing)
      this.#o.report({ op: 'sync-blocked', name: entry.name, peer, detail: `${reason} (${code})` })
    this.#schedule()
  }

  /** `entry` from `peer` was applied (or found superseded): what waited for it is cleared. */
  cleared(source: PeerSource, entry: FileEntry): void {
    const peer = source.name
    if (this.#outdated(source)) return
    const existing = this.#rows.get(key(peer, entry.name))
    if (!existing || existing.entry.seq > entry.seq || this.#stopped) return
    this.#remove(peer, entry.name)
    const waited = Math.max(0, this.#now() - existing.since)
    this.#o.report({
      op: 'sync-cleared',
      name: entry.name,
      peer,
      detail: `after ${Math.round(waited / 100) / 10} s set aside`,
    })
  }

  /**
   * `peer` started a new epoch (its index was made anew): it sends everything again, numbered
   * anew, so what waited from it is dropped rather than compared with the new numbers.
   */
  forgetPeer(peer: string): void {
    this.#generation.set(peer, (this.#generation.get(peer) ?? 0) + 1)
    for (const row of [...this.#rows.values()])
      if (row.peer === peer) this.#remove(peer, row.entry.name)
  }

  /** Names that changed here: what they might unblock is tried again now. */
  nudge(names: readonly string[]): void {
    if (names.length === 0 || this.#rows.size === 0 || this.#stopped) return
    const rows = [...this.#rows.values()]
    const now = this.#now()
    let any = false
    for (const row of rows) {
      if (!names.some((name) => related(name, row.entry.name))) continue
      if (now - (this.#tried.get(key(row.peer, row.entry.name)) ?? 0) < NUDGE_GAP_MS) continue
      this.#put({ ...row, nextAt: now })
      any = true
    }
    if (any) this.#schedule(0)
  }

  /**
   * A retry that started before the peer's new epoch: what it reports is of the old numbering
   * (kept, its seq would hide the new epoch's entry of that name; cleared, it could remove it).
   */
  #outdated(source: PeerSource): boolean {
    const { generation } = source
    return generation !== undefined && generation !== (this.#generation.get(source.name) ?? 0)
  }

  /** For `status`: every entry set aside, oldest first. */
  list(): SetAsideEntry[] {
    return [...this.#rows.values()]
      .sort((a, b) => a.since - b.since)
      .map((row) => ({
        name: row.entry.name,
        peer: row.peer,
        code: row.code,
        reason: row.reason,
        since: row.since,
        attempts: row.attempts,
        nextRetryAt: row.nextAt,
        neededBytes: row.code === 'ERR_NO_SPACE' ? row.entry.size : null,
      }))
  }

  #schedule(delayMs?: number): void {
    if (!this.#started || this.#stopped) return
    clearTimeout(this.#timer)
    this.#timer = undefined
    const rows = [...this.#rows.values()]
    this.#watchSpace(rows)
    if (rows.length === 0) return
    let next = Infinity
    for (const row of rows) next = Math.min(next, row.nextAt)
    const wait = delayMs ?? Math.max(0, next - this.#now())
    // A failure here (the database closed at a stop) must not be an unhandled rejection.
    this.#timer = setTimeout(() => void this.#runDue().catch(() => undefined), wait)
    this.#timer.unref()
  }

  /** Try every row that is due, one peer at a time; one attempt runs at once. */
  async #runDue(): Promise<void> {
    if (this.#running) return void (this.#again = true)
    this.#running = true
    try {
      const now = this.#now()
      const due = [...this.#rows.values()].filter((row) => row.nextAt <= now)
      for (const [peer, rows] of byPeer(due)) {
        if (this.#stopped) return
        await this.#attempt(peer, rows)
      }
    } finally {
      this.#running = false
      const again = this.#again
      this.#again = false
      this.#schedule(again ? 0 : undefined)
    }
  }

  async #attempt(peer: string, rows: readonly SetAsideRow[]): Promise<void> {
    const started = this.#now()
    for (const row of rows) this.#tried.set(key(peer, row.entry.name), started)
    try {
      const generation = this.#generation.get(peer) ?? 0
      await this.#o.retry(
        peer,
        rows.map((row) => row.entry),
        generation,
      )
    } catch (err) {
      // The attempt as a whole failed (the peer is down, say): each row not tried since waits.
      const { code, reason } = describe(err)
      for (const row of rows) {
        const now = this.#rows.get(key(peer, row.entry.name))
        if (!now || now.entry.seq !== row.entry.seq || now.nextAt > started || this.#stopped)
          continue
        const attempts = now.attempts + 1
        this.#put({ ...now, code, reason, attempts, nextAt: started + backoff(attempts) })
      }
    }
  }

  /** While something waits for space, look at the free space each second: more, try again. */
  #watchSpace(rows: readonly SetAsideRow[]): void {
    const waiting = rows.some((row) => row.code === 'ERR_NO_SPACE')
    if (!waiting || this.#stopped) {
      clearInterval(this.#spacePoll)
      this.#spacePoll = undefined
      this.#lastFree = -1
      return
    }
    if (this.#spacePoll) return
    this.#spacePoll = setInterval(
      () => void this.#checkSpace().catch(() => undefined),
      SPACE_POLL_MS,
    )
    this.#spacePoll.unref()
  }

  async #checkSpace(): Promise<void> {
    const free = await this.#o.freeBytes().catch(() => -1)
    const grew = this.#lastFree >= 0 && free > this.#lastFree
    this.#lastFree = free
    if (!grew || this.#stopped) return
    const rows = [...this.#rows.values()].filter((row) => row.code === 'ERR_NO_SPACE')
    const fits = rows.filter((row) => row.entry.size <= free)
    if (fits.length === 0) return
    const now = this.#now()
    for (const row of fits) this.#put({ ...row, nextAt: now })
    this.#schedule(0)
  }
}

function key(peer: string, name: string): string {
  return `${peer}\0${name}`
}

function backoff(attempts: number): number {
  return Math.min(RETRY_MIN_MS * 2 ** Math.max(0, attempts - 1), RETRY_MAX_MS)
}

/** A change at `changed` may unblock `waiting`: the same name, a folder above it, or below it. */
function related(changed: string, waiting: string): boolean {
  return (
    changed === waiting || waiting.startsWith(`${changed}/`) || changed.startsWith(`${waiting}/`)
  )
}

function byPeer(rows: readonly SetAsideRow[]): Map<string, SetAsideRow[]> {
  const groups = new Map<string, SetAsideRow[]>()
  for (const row of rows) groups.set(row.peer, [...(groups.get(row.peer) ?? []), row])
  return groups
}

function describe(err: unknown): { code: string; reason: string } {
  const code = (err as { code?: unknown }).code
  return {
    code: typeof code === 'string' && code.startsWith('ERR_') ? code : 'ERR_INTERNAL',
    reason: err instanceof Error ? err.message : String(err),
  }
}
