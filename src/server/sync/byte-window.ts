/**
 * A window of content bytes in flight: the applier starts actions while the content they carry
 * fits, so that many small files are fetched (pipelined on the content channel) and written at
 * once while a few big ones do not fill memory and the disk's queue. One action is always let in,
 * however big, so nothing waits for ever. Served in order.
 */
export class ByteWindow {
  readonly #limit: number
  #inFlight = 0
  #active = 0
  readonly #queue: { bytes: number; go(): void }[] = []

  constructor(limitBytes: number) {
    this.#limit = limitBytes
  }

  /** Resolves when `bytes` may be in flight; `give` them back when done. */
  take(bytes: number): Promise<void> {
    if (this.#queue.length === 0 && this.#fits(bytes)) {
      this.#admit(bytes)
      return Promise.resolve()
    }
    return new Promise((resolve) => this.#queue.push({ bytes, go: resolve }))
  }

  give(bytes: number): void {
    this.#inFlight -= bytes
    this.#active--
    while (this.#queue.length > 0 && this.#fits(this.#queue[0]!.bytes)) {
      const next = this.#queue.shift()!
      this.#admit(next.bytes)
      next.go()
    }
  }

  #fits(bytes: number): boolean {
    return this.#active === 0 || this.#inFlight + bytes <= this.#limit
  }

  #admit(bytes: number): void {
    this.#inFlight += bytes
    this.#active++
  }
}
