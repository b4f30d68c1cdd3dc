/**
 * Entries from a peer waiting to be applied, in order of arrival.
 */
import type { WireFileEntry } from '../../protocol/index.js'

const MAX_BATCH = 1_000

/**
 * Entries waiting to be applied. Messages that arrive while a batch is being applied are merged
 * into the next batch (the newest entry per name wins), so a burst of small messages is applied
 * with full concurrency instead of one small batch after another.
 */
export class EntryQueue {
  #pending: WireFileEntry[] = []
  #epoch = ''
  #running: Promise<void> = Promise.resolve()
  #active = false

  constructor(
    private readonly apply: (
      epoch: string,
      entries: WireFileEntry[],
      lastSeq: number,
    ) => Promise<void>,
  ) {}

  push(epoch: string, entries: readonly WireFileEntry[], onError: (err: Error) => void): void {
    if (epoch !== this.#epoch && this.#pending.length > 0) this.#pending = []
    this.#epoch = epoch
    this.#pending.push(...entries)
    if (this.#active || this.#pending.length === 0) return
    this.#active = true
    this.#running = this.#drain().catch((err: unknown) => onError(err as Error))
  }

  idle(): Promise<void> {
    return this.#running
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const taken = this.#pending.splice(0, MAX_BATCH)
        const lastSeq = Math.max(...taken.map((e) => e.seq))
        await this.apply(this.#epoch, newestPerName(taken), lastSeq)
      }
    } finally {
      this.#active = false // synchronously after the loop's last check: no push is missed
    }
  }
}

function newestPerName(entries: readonly WireFileEntry[]): WireFileEntry[] {
  const newest = new Map<string, WireFileEntry>()
  for (const e of entries) newest.set(e.name, e)
  return entries.filter((e) => newest.get(e.name) === e)
}
