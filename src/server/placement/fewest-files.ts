/**
 * The source design's placement rule, kept to measure the chosen one against (benchmarks): a new
 * file stays where it was created and its other copies go to the members holding the fewest
 * files at that moment. It needs everyone's current counts, so two members placing at once (or
 * with counts a heartbeat old) choose alike, and a burst of uploads piles onto the emptiest member.
 */
export class FewestFiles {
  readonly #counts = new Map<string, number>()
  readonly #bytes = new Map<string, number>()

  constructor(members: readonly string[]) {
    for (const m of members) this.add(m)
  }

  /** A member joins (empty). */
  add(member: string): void {
    if (!this.#counts.has(member)) {
      this.#counts.set(member, 0)
      this.#bytes.set(member, 0)
    }
  }

  /**
   * Place a new file of `size` bytes created at `creator` on `k` members, and count it. `view`
   * is the counts the placer sees (default: the current ones; a lagging view is an older copy).
   */
  place(creator: string, size: number, k: number, view?: ReadonlyMap<string, number>): string[] {
    const counts = view ?? this.#counts
    const others = [...this.#counts.keys()]
      .filter((m) => m !== creator)
      .sort((a, b) => (counts.get(a) ?? 0) - (counts.get(b) ?? 0) || (a < b ? -1 : 1))
    const holders = [creator, ...others].slice(0, k)
    for (const m of holders) {
      this.#counts.set(m, (this.#counts.get(m) ?? 0) + 1)
      this.#bytes.set(m, (this.#bytes.get(m) ?? 0) + size)
    }
    return holders
  }

  /** Files per member now. */
  counts(): ReadonlyMap<string, number> {
    return new Map(this.#counts)
  }

  /** Bytes per member now. */
  bytes(): ReadonlyMap<string, number> {
    return new Map(this.#bytes)
  }
}
