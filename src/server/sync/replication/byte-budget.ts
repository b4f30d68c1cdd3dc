/**
 * A byte budget for the copies healing and rebalancing make, so that clients stay served: a token
 * bucket filled at `bytesPerSecond`, holding at most one second's worth. A copy larger than that
 * waits for a full bucket and leaves it in debt, which later copies wait out. Takes are served in
 * order.
 */
export class ByteBudget {
  readonly #rate: number
  readonly #now: () => number
  #available: number
  #at: number
  #queue: Promise<void> = Promise.resolve()
  #stopped = false

  constructor(bytesPerSecond: number, now: () => number = Date.now) {
    this.#rate = bytesPerSecond
    this.#now = now
    this.#available = bytesPerSecond
    this.#at = now()
  }

  /** Resolves when `bytes` may be spent (at once while the bucket holds them). */
  take(bytes: number): Promise<void> {
    const turn = this.#queue.then(() => this.#wait(bytes))
    this.#queue = turn.catch(() => undefined)
    return turn
  }

  stop(): void {
    this.#stopped = true
  }

  async #wait(bytes: number): Promise<void> {
    const need = Math.min(bytes, this.#rate)
    for (;;) {
      if (this.#stopped) return
      this.#refill()
      if (this.#available >= need) break
      const ms = Math.ceil(((need - this.#available) / this.#rate) * 1000)
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, ms)).unref())
    }
    this.#available -= bytes
  }

  #refill(): void {
    const now = this.#now()
    this.#available = Math.min(this.#rate, this.#available + ((now - this.#at) / 1000) * this.#rate)
    this.#at = now
  }
}
