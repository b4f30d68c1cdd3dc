/**
 * Request ids (`rid`): every mutating request carries `CLIENT:SEQUENCE`, so that a cluster can
 * apply it at most once however often it is replayed. A replay after a reconnect reuses its rid;
 * a new request never reuses one, also across processes of the same client id:
 * - the sequence starts from the wall clock in nanoseconds-since-the-epoch units
 *   (`Date.now() * 1e6`) plus a random offset below one millisecond's worth, and counts up, never
 *   falling behind the clock. A later process starts from a later clock, and no process runs
 *   ahead of the clock by more than that offset plus one per request, so the ranges of processes
 *   run one after the other never meet;
 * - two processes of the same id started in the same millisecond draw different random offsets
 *   (a collision needs the offsets within the number of requests of each other: about n in 10^6).
 * The sequence is a decimal string (19 digits until the year 2286), within the protocol's 20.
 */
import { randomInt } from 'node:crypto'

const PER_MS = 1_000_000n

export class RequestIds {
  readonly clientId: string
  readonly #clock: () => number
  #last: bigint

  /** `clock` (ms since the epoch) and `offset` (below 10^6) are for tests. */
  constructor(clientId: string, options: { clock?: () => number; offset?: number } = {}) {
    this.clientId = clientId
    this.#clock = options.clock ?? Date.now
    const offset = BigInt(options.offset ?? randomInt(0, Number(PER_MS)))
    this.#last = BigInt(Math.floor(this.#clock())) * PER_MS + offset - 1n
  }

  /** A new request id, never given out before by this object. */
  next(): string {
    const now = BigInt(Math.floor(this.#clock())) * PER_MS
    this.#last = this.#last + 1n > now ? this.#last + 1n : now
    return `${this.clientId}:${this.#last}`
  }
}

/** One sequence per client id per process: every connection of the process draws from it. */
const perClient = new Map<string, RequestIds>()

export function requestIdsFor(clientId: string): RequestIds {
  let ids = perClient.get(clientId)
  if (!ids) perClient.set(clientId, (ids = new RequestIds(clientId)))
  return ids
}
