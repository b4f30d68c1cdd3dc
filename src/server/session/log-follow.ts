/**
 * A session's `log --follow`: the history first, then every new entry, none lost and none twice.
 * Following begins before the history is read, so an entry recorded between the read and the
 * subscription is not lost; the live entries that arrive meanwhile are held, and those the
 * history already holds (by seq) are dropped when the rest is sent.
 */
import type { LogEntry } from '../../protocol/index.js'

export class LogFollow {
  readonly #send: (entry: LogEntry) => void
  readonly #subscribe: () => void
  #subscribed = false
  /** Live entries held while a history is being read and sent. */
  #held: LogEntry[] | undefined
  #last = -1
  /** A follow request whose history could not be read: its entries are dropped. */
  #off = false

  constructor(send: (entry: LogEntry) => void, subscribe: () => void) {
    this.#send = send
    this.#subscribe = subscribe
  }

  /** Start holding live entries (call before the history is read). */
  begin(): void {
    this.#held ??= []
    this.#off = false
    if (this.#subscribed) return
    this.#subscribed = true
    this.#subscribe()
  }

  /** The history was sent: send the held entries it does not hold, then each one as it comes. */
  live(history: readonly LogEntry[]): void {
    for (const entry of history) this.#last = Math.max(this.#last, entry.seq)
    const held = this.#held ?? []
    this.#held = undefined
    for (const entry of held) this.push(entry)
  }

  /** The history could not be read (the request failed): hold nothing, send nothing. */
  abandon(): void {
    this.#held = undefined
    this.#off = true
  }

  /** A new entry from the log (only arrives once subscribed). */
  push(entry: LogEntry): void {
    if (this.#held) {
      this.#held.push(entry)
      return
    }
    if (this.#off || entry.seq <= this.#last) return
    this.#last = entry.seq
    this.#send(entry)
  }
}
