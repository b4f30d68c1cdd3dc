/**
 * The live member view placement is computed from: per member, whether it is up, and since when
 * it is down (a member known from the `members` table but not seen since this start is down since
 * this start), and its capacity (the placement weight). Down for less than --rereplicate-after is
 * the grace window: the member stays a candidate (its copies count as coming back); longer, it is
 * given up and its files are copied anew. Time is injected.
 */
import type { MemberState, PlanMember } from './plan.js'

interface Known {
  up: boolean
  /** When it went down (or this start, for one not seen since). */
  downSince: number
  /** Capacity in GiB (the placement weight), when known. */
  capacity: number | null
}

export interface MemberViewOptions {
  self: string
  graceMs: number
  now?: () => number
}

export class MemberView {
  readonly #o: MemberViewOptions
  readonly #now: () => number
  readonly #startedAt: number
  readonly #members = new Map<string, Known>()
  /** When a member last came up, went down or told another capacity. */
  #changedAt: number

  constructor(options: MemberViewOptions) {
    this.#o = options
    this.#now = options.now ?? Date.now
    this.#startedAt = this.#now()
    this.#changedAt = this.#startedAt
  }

  /**
   * A member known by name but not seen up: one remembered from an earlier run (the `members`
   * table, a link's name from before) is down since this start; one first heard of now (an
   * entry's creator, relayed before its own link is up) is down since now. Either way it stays a
   * candidate until given up, so every member places its files alike from the first moment.
   */
  known(name: string, capacity: number | null): void {
    if (name === this.#o.self || this.#members.has(name)) return
    this.#members.set(name, { up: false, downSince: this.#now(), capacity })
    this.#changedAt = this.#now()
  }

  up(name: string, capacity: number | null): void {
    if (name === this.#o.self) return
    const was = this.#members.get(name)
    this.#members.set(name, {
      up: true,
      downSince: was?.downSince ?? this.#startedAt,
      capacity: capacity ?? was?.capacity ?? null,
    })
    this.#changedAt = this.#now()
  }

  down(name: string): void {
    const was = this.#members.get(name)
    if (!was?.up) return
    this.#members.set(name, { ...was, up: false, downSince: this.#now() })
    this.#changedAt = this.#now()
  }

  members(): PlanMember[] {
    const now = this.#now()
    return [...this.#members].map(([name, m]) => ({
      name,
      weight: weightOf(m.capacity),
      state: this.#state(m, now),
    }))
  }

  /**
   * Since when the view has not changed: no member came up, went down, or was given up. Members'
   * views of one another differ for a moment after each change (each sees a link go up or down
   * at its own time); surplus copies are dropped only once the view has rested.
   */
  stableSince(): number {
    const now = this.#now()
    let since = this.#changedAt
    for (const m of this.#members.values()) {
      const givenUp = m.downSince + this.#o.graceMs
      if (!m.up && givenUp <= now) since = Math.max(since, givenUp)
    }
    return since
  }

  /** When the next member in its grace window is given up (undefined: none is). */
  nextGiveUp(): number | undefined {
    const now = this.#now()
    let next: number | undefined
    for (const m of this.#members.values()) {
      if (this.#state(m, now) !== 'grace') continue
      const at = m.downSince + this.#o.graceMs
      next = next === undefined ? at : Math.min(next, at)
    }
    return next
  }

  #state(m: Known, now: number): MemberState {
    if (m.up) return 'up'
    return now - m.downSince < this.#o.graceMs ? 'grace' : 'gone'
  }
}

/** Capacity in GiB as a placement weight: at least 1 (unknown counts as 1). */
export function weightOf(capacity: number | null | undefined): number {
  return capacity === null || capacity === undefined || !(capacity >= 1) ? 1 : capacity
}
