/**
 * The runtime half of the mass-deletion guard. Deletions found in bursts (many
 * names at once, as `rm -rf` makes them) are held instead of recorded, until deletions have been
 * quiet for a moment; then, if the data directory is gone or empty, the server refuses to sync
 * rather than tell the peers to delete everything; otherwise the held deletions are recorded
 * (found again by a fresh look at the disk). A few deletions at a time are recorded at once, and
 * a burst of fewer than 20 that happens to leave the directory empty is recorded too. A client's
 * own folder delete (told by the operation) and renames are never judged here.
 */
const MASS = 20 // deletions found in one scan that start holding
const QUIET_MS = 1_000

export interface Emptied {
  vanished: boolean
  reason: string
}

export interface DeletionGuardOptions {
  /** Whether the directory vanished, or holds no file while the index lists some (and why). */
  emptied(): Promise<Emptied | null>
  refuse(reason: string): void
  /** Look at these names again and record what is still deleted. */
  release(names: string[]): void
  now?: () => number
}

export class DeletionGuard {
  readonly #o: DeletionGuardOptions
  readonly #now: () => number
  readonly #held = new Set<string>()
  readonly #released = new Set<string>()
  #lastMassAt = 0
  #timer: NodeJS.Timeout | undefined

  constructor(options: DeletionGuardOptions) {
    this.#o = options
    this.#now = options.now ?? Date.now
  }

  /**
   * The deletions that may be recorded now; the others are held. `folderGone`: a folder holding
   * one of them has vanished too (`rm -r`), which is judged like a burst.
   */
  admit(names: readonly string[], folderGone: boolean): readonly string[] {
    // Names released after a burst was judged harmless pass once, whatever comes with them.
    const released = names.filter((name) => this.#released.delete(name))
    const rest = names.filter((name) => !released.includes(name))
    const burst = rest.length >= MASS || (folderGone && rest.length > 0)
    if (!burst && this.#held.size === 0) return names
    if (burst) this.#lastMassAt = this.#now()
    for (const name of rest) this.#held.add(name)
    if (rest.length > 0) this.#schedule(QUIET_MS)
    return released
  }

  /**
   * These deletions are a client's (told by the operation): any of them held now is released at
   * once, to be recorded when looked at again.
   */
  pass(names: readonly string[]): void {
    const held = names.filter((name) => this.#held.delete(name))
    if (held.length === 0) return
    for (const name of held) this.#released.add(name)
    this.#o.release(held)
  }

  stop(): void {
    clearTimeout(this.#timer)
  }

  #schedule(delay: number): void {
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => void this.#decide(), delay)
  }

  async #decide(): Promise<void> {
    const quietFor = this.#now() - this.#lastMassAt
    if (quietFor < QUIET_MS) return this.#schedule(QUIET_MS - quietFor)
    // A vanished directory is never synced; an emptied one when the burst was a mass deletion
    // (deleting one's last two files is a deletion like any other).
    const emptied = await this.#o.emptied()
    if (emptied && (emptied.vanished || this.#held.size >= MASS))
      return this.#o.refuse(emptied.reason)
    const names = [...this.#held]
    this.#held.clear()
    for (const name of names) this.#released.add(name)
    this.#o.release(names)
  }
}
