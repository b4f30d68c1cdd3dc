/**
 * Decides when the watcher pauses while this server writes many files itself (see
 * Watcher.pause): from the first batch that brings many writes, or when small batches add up
 * to many within a second, until the writes have been quiet for a moment. A single file applied
 * now and then never pauses it (resuming costs a rescan of the whole tree).
 */
const ENTER_WRITES = 64 // writes within WINDOW_MS
const WINDOW_MS = 1_000
const QUIET_MS = 300

export class BulkMode {
  #active = false
  #inFlight = 0
  #recent: { at: number; writes: number }[] = []
  #quiet: NodeJS.Timeout | undefined

  constructor(
    private readonly pause: () => void,
    private readonly resume: () => void,
    /** A name to look at: held while paused, given once on resume (Watcher.notice). */
    private readonly notice: (name: string) => void,
    private readonly now: () => number = Date.now,
  ) {}

  get active(): boolean {
    return this.#active
  }

  /** Something may have changed at `name`: looked at now, or once the watcher resumes. */
  hint(name: string): void {
    this.notice(name)
  }

  /** A batch with `writes` file changes starts. */
  begin(writes: number): void {
    this.#inFlight++
    clearTimeout(this.#quiet)
    const now = this.now()
    this.#recent = this.#recent.filter((r) => now - r.at < WINDOW_MS)
    this.#recent.push({ at: now, writes })
    const total = this.#recent.reduce((sum, r) => sum + r.writes, 0)
    if (!this.#active && total >= ENTER_WRITES) {
      this.#active = true
      this.pause()
    }
  }

  end(): void {
    if (--this.#inFlight > 0 || !this.#active) return
    this.#quiet = setTimeout(() => {
      if (this.#inFlight > 0 || !this.#active) return
      this.#active = false
      this.resume()
    }, QUIET_MS)
  }

  stop(): void {
    clearTimeout(this.#quiet)
  }
}
