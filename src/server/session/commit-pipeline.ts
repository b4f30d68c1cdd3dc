/**
 * Lets a session receive the next body while earlier bodies are still being fsynced and published
 * (a `put` of a folder pipelines many small files; each commit waits on the disk). Answers still
 * leave in request order, and order per name is kept: a request that touches a name waits for the
 * commits in flight on that name, and a request without a body waits for all of them.
 */
export class CommitPipeline {
  readonly #limit: number
  readonly #inFlight = new Set<{ name: string; done: Promise<void> }>()
  #tail: Promise<void> = Promise.resolve()

  constructor(limit: number) {
    this.#limit = limit
  }

  get size(): number {
    return this.#inFlight.size
  }

  /**
   * Resolves when the commits in flight now on `name` (or, without a name, all of them) are done.
   * Taken at the time of the call: commits added later are not waited for.
   */
  settled(name?: string): Promise<void> {
    const pending = [...this.#inFlight].filter((c) => name === undefined || c.name === name)
    return Promise.all(pending.map((c) => c.done)).then(() => undefined)
  }

  /**
   * Start `work` (which must not reject) now; `deliver` its result after every earlier answer.
   * Waits first while the pipeline is full, which paces a client that sends faster than the disk.
   */
  async add<T>(name: string, work: () => Promise<T>, deliver: (result: T) => void): Promise<void> {
    while (this.#inFlight.size >= this.#limit)
      await Promise.race([...this.#inFlight].map((c) => c.done))
    const result = work()
    const entry: { name: string; done: Promise<void> } = { name, done: Promise.resolve() }
    // The entry leaves before `deliver` runs, so a deliver that checks `size` sees it gone.
    entry.done = this.#tail = this.#tail
      .then(() => result)
      .then((value) => {
        this.#inFlight.delete(entry)
        deliver(value)
      })
    this.#inFlight.add(entry)
  }
}
