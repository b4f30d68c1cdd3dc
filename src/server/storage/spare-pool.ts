/**
 * Buffers of one size kept for reuse by the thread (or connection) that made them: at most `max`,
 * let go `idleMs` after the last one came back, or at once with drop(). An idle owner thus holds
 * none, and a busy one allocates few. Used for file reads (read-buffers.ts) and for a session's
 * download frames (workers/port-link.ts).
 */
export class SparePool<T extends Buffer | ArrayBuffer> {
  readonly #spare: T[] = []
  #timer: NodeJS.Timeout | undefined

  constructor(
    /** The one size kept: buffers of any other are left to the collector. */
    readonly bytes: number,
    readonly max: number,
    readonly idleMs: number,
  ) {}

  /** A spare buffer, if one is kept. */
  take(): T | undefined {
    return this.#spare.pop()
  }

  /** Give a buffer back: only once nothing reads or writes it any more. Kept once at most. */
  give(buf: T): void {
    if (buf.byteLength !== this.bytes || this.#spare.length >= this.max) return
    if (this.#spare.includes(buf)) return
    this.#spare.push(buf)
    if (this.#timer) this.#timer.refresh()
    else this.#timer = setTimeout(() => this.drop(), this.idleMs).unref() // never keeps it alive
  }

  /** Let every spare buffer go (garbage for the next full collection). */
  drop(): void {
    this.#spare.length = 0
    clearTimeout(this.#timer)
    this.#timer = undefined
  }

  get count(): number {
    return this.#spare.length
  }
}
