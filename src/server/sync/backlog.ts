/**
 * What `status` says of a link: 'up' only while the peer's changes flow here or none wait. The
 * backlog remembers when each change not applied yet was first announced (so `status` tells how
 * long the oldest has waited) and when anything last moved: a batch applied, an action done, a
 * piece of content received. Changes waiting with nothing moving for STALL_MS: 'stalled'.
 */
import type { PeerStatus } from '../../protocol/index.js'

/** Changes waiting, and nothing applied nor any content received for this long: 'stalled'. */
export const STALL_MS = 5_000

export class Backlog {
  #marks: { seq: number; at: number }[] = []
  #progressAt: number

  constructor(now = Date.now()) {
    this.#progressAt = now
  }

  /** The peer's sequence reached `seq`: what lies beyond what is applied waits from now on. */
  announced(seq: number, now = Date.now()): void {
    const last = this.#marks[this.#marks.length - 1]
    if (!last || seq > last.seq) this.#marks.push({ seq, at: now })
  }

  /** Everything up to `seq` is applied here. */
  applied(seq: number, now = Date.now()): void {
    while (this.#marks.length > 0 && this.#marks[0]!.seq <= seq) this.#marks.shift()
    this.#progressAt = now
  }

  /** Something moved (an action done, content received). */
  progressed(now = Date.now()): void {
    this.#progressAt = now
  }

  /** A new connection: nothing known to wait yet. */
  reset(now = Date.now()): void {
    this.#marks = []
    this.#progressAt = now
  }

  state(
    connected: boolean,
    behind: number | null,
    now = Date.now(),
  ): Pick<PeerStatus, 'state' | 'up' | 'connected' | 'oldestWaitingMs'> {
    const oldest = behind !== null && behind > 0 ? (this.#marks[0]?.at ?? null) : null
    const quiet = oldest === null ? 0 : now - Math.max(oldest, this.#progressAt)
    const state = !connected ? 'down' : quiet > STALL_MS ? 'stalled' : 'up'
    return {
      state,
      up: state === 'up',
      connected,
      oldestWaitingMs: oldest === null ? null : Math.max(0, now - oldest),
    }
  }
}
