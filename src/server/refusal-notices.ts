/**
 * Which refusals of peers (ERR_AUTH) to report on the console and in the change log. A refused
 * peer retries every few seconds, and anyone can knock with made-up names: one report per peer
 * and reason per interval, and a bound on reports per interval in all. Time is injected.
 */
const INTERVAL_MS = 60_000 // 1 min
const MAX_PER_INTERVAL = 30
const MAX_REMEMBERED = 1_024

export class RefusalNotices {
  readonly #last = new Map<string, number>()
  #windowStart = 0
  #inWindow = 0

  constructor(private readonly now: () => number = Date.now) {}

  /** Whether this refusal is reported (true for the first of its peer and reason in a while). */
  shouldReport(peer: string, reason: string): boolean {
    const now = this.now()
    const key = `${peer}\n${reason}`
    const last = this.#last.get(key)
    if (last !== undefined && now - last < INTERVAL_MS) return false
    if (now - this.#windowStart >= INTERVAL_MS) {
      this.#windowStart = now
      this.#inWindow = 0
    }
    if (this.#inWindow >= MAX_PER_INTERVAL) return false
    this.#inWindow++
    if (this.#last.size >= MAX_REMEMBERED) this.#last.clear()
    this.#last.set(key, now)
    return true
  }
}
