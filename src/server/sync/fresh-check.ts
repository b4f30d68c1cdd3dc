/**
 * A check that many callers want at once (is the data directory still there? how much space is
 * free?), coalesced as directory fsyncs are: a caller never gets an answer from a check that
 * started before it asked, but callers that ask while one runs share the next one. Sixty-four
 * actions starting together cost two checks, not sixty-four.
 */
export class FreshCheck<T> {
  readonly #run: () => Promise<T>
  /** The check under way, and the one that callers arriving meanwhile will share. */
  #current: Promise<T> | undefined
  #next: Promise<T> | undefined

  constructor(run: () => Promise<T>) {
    this.#run = run
  }

  get(): Promise<T> {
    if (!this.#current) return this.#start()
    this.#next ??= this.#current.then(
      () => this.#start(),
      () => this.#start(),
    )
    return this.#next
  }

  #start(): Promise<T> {
    this.#next = undefined
    const run = this.#run()
    this.#current = run
    const clear = (): void => {
      if (this.#current === run) this.#current = undefined
    }
    run.then(clear, clear)
    return run
  }
}
