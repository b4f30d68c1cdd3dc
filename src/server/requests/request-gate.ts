/**
 * The main thread's side of "a request of one rid is applied at most once": every session worker
 * and the HTTP worker ask here before they apply a request that carries a rid (ops/once.ts).
 * - Applied already (this server's record in tandem.db, or one that came with an index entry, in
 *   index.db read-only): the answer is the original result (a replay).
 * - In flight here (another connection, or the same client again after a reconnect): the asker
 *   waits for it to end, then looks again (its record, or its failure: then it runs itself).
 * - Otherwise the asker holds the rid until it records its result (`done`, before its reply) or
 *   gives up (`abandon`; also when its worker's side ends).
 * A rid reused for another request (another op or name) is refused with ERR_BAD_REQUEST.
 */
import { TandemError } from '../../protocol/errors.js'
import type { EntryRequest } from '../../protocol/peer-messages.js'
import { openIndexReader, type IndexDb } from '../index/database.js'
import {
  describeTarget,
  lookUpRequest,
  RequestTable,
  type RequestRecord,
  type RequestTag,
  type RequestWindowBounds,
} from '../index/request-window.js'
import type { Db } from '../state/database.js'

/** A request of this server's, told again to the sync worker at start (see `recent`). */
export interface RecoveredRequest {
  request: EntryRequest
  names: string[]
}

export type Begun = { replay: true; result: unknown } | { replay: false }

/** One applied request to record (RequestGate.doneMany). */
export interface DoneRequest {
  tag: RequestTag
  result: unknown
  names?: readonly string[]
}

interface Queued extends DoneRequest {
  resolve(record: EntryRequest): void
  reject(err: unknown): void
}

interface InFlight {
  tag: RequestTag
  owner: object
  wake: (() => void)[]
}

export class RequestGate {
  readonly #own: RequestTable
  readonly #inFlight = new Map<string, InFlight>()
  readonly #db: Db
  /** `doneSoon` calls of this turn of the event loop, recorded together at its end. */
  #queued: Queued[] = []

  constructor(
    db: Db,
    private readonly self: string,
    /** The sync worker's index, read-only (undefined until it exists). */
    private readonly index: () => IndexDb | undefined,
    private readonly bounds: RequestWindowBounds,
  ) {
    this.#db = db
    this.#own = new RequestTable(db, bounds)
  }

  /** May `owner` apply this request? Resolves when it may, or with the original result. */
  async begin(tag: RequestTag, owner: object): Promise<Begun> {
    for (;;) {
      const known = this.#lookUp(tag.rid)
      if (known) {
        sameRequest(tag, known)
        return { replay: true, result: known.result }
      }
      const running = this.#inFlight.get(tag.rid)
      if (!running) {
        this.#inFlight.set(tag.rid, { tag, owner, wake: [] })
        return { replay: false }
      }
      sameRequest(tag, running.tag)
      await new Promise<void>((resolve) => running.wake.push(resolve))
    }
  }

  /** The request was applied with this result: recorded (durably) before its client hears. */
  done(tag: RequestTag, result: unknown, names: readonly string[] = []): EntryRequest {
    return this.doneMany([{ tag, result, names }])[0]!
  }

  /**
   * Several requests applied: recorded in ONE transaction (one commit instead of one each: the
   * commit is most of what a record costs), then each rid is settled, in order. All or none.
   */
  doneMany(requests: readonly DoneRequest[]): EntryRequest[] {
    const at = Date.now()
    const record = (): void => {
      for (const { tag, result, names = [] } of requests)
        this.#own.record({ ...tag, result, origin: this.self, names: [...names] })
    }
    this.#db.transaction(record)()
    return requests.map(({ tag, result }) => {
      this.#settle(tag.rid)
      return {
        ...tag,
        op: tag.op as EntryRequest['op'],
        result: result as EntryRequest['result'],
        at,
      }
    })
  }

  /**
   * `done`, with every other `doneSoon` of this turn of the event loop (the workers' messages
   * that reached the main thread in it) in one transaction, recorded at the turn's end
   * (setImmediate). Resolves once the record is committed, so what waits for it (the lock's
   * release, the client's answer) still comes after. Should that transaction fail, each request
   * is recorded alone and fails (or not) with its own error.
   */
  doneSoon(tag: RequestTag, result: unknown, names: readonly string[] = []): Promise<EntryRequest> {
    return new Promise((resolve, reject) => {
      if (this.#queued.length === 0) setImmediate(() => this.#flush())
      this.#queued.push({ tag, result, names, resolve, reject })
    })
  }

  /**
   * Record what `doneSoon` queued now, not at the turn's end: before a worker's rids are given
   * up (a queued record released first would let a waiting replay apply its request again) and
   * before the database closes.
   */
  flushNow(): void {
    this.#flush()
  }

  #flush(): void {
    const queued = this.#queued
    if (queued.length === 0) return
    this.#queued = []
    let records: EntryRequest[] | undefined
    try {
      records = this.doneMany(queued)
    } catch {
      for (const q of queued) {
        try {
          q.resolve(this.done(q.tag, q.result, q.names))
        } catch (err) {
          q.reject(err)
        }
      }
      return
    }
    queued.forEach((q, i) => q.resolve(records[i]!))
  }

  /**
   * This server's latest requests that wrote names, for the sync worker at start: one whose
   * change a crash kept from being indexed with its rid gets it when the inventory finds it.
   */
  recent(limit = 1_000): RecoveredRequest[] {
    return this.#own.recent(limit).map((r) => ({
      request: {
        rid: r.rid,
        op: r.op as EntryRequest['op'],
        target: r.target,
        result: r.result as EntryRequest['result'],
        at: r.at,
      },
      names: r.names ?? [],
    }))
  }

  /** The request failed or was not applied: a waiting replay may run it now. */
  abandon(rid: string, owner: object): void {
    if (this.#inFlight.get(rid)?.owner !== owner) return
    this.#flush() // a record of it still queued is in first: then a replay finds it
    if (this.#inFlight.get(rid)?.owner === owner) this.#settle(rid)
  }

  /** A worker's side ended: what it held is given up (what it recorded is committed first). */
  endOwner(owner: object): void {
    this.#flush()
    for (const [rid, running] of this.#inFlight) if (running.owner === owner) this.#settle(rid)
  }

  #settle(rid: string): void {
    const running = this.#inFlight.get(rid)
    this.#inFlight.delete(rid)
    for (const wake of running?.wake ?? []) wake()
  }

  #lookUp(rid: string): RequestRecord | undefined {
    const own = this.#own.get(rid)
    if (own) return own
    // This server's own rids are always in tandem.db first (before their reply): one found only
    // in index.db has left tandem.db's window (index.db's copy is pruned a little later).
    const indexed = lookUpRequest(this.index(), rid, this.bounds)
    return indexed && indexed.origin !== this.self ? indexed : undefined
  }
}

function sameRequest(tag: RequestTag, known: Pick<RequestRecord, 'op' | 'target'>): void {
  if (known.op !== tag.op || known.target !== tag.target)
    throw new TandemError(
      'ERR_BAD_REQUEST',
      `the request id ${tag.rid} was used for another request (${known.op} ${describeTarget(known.target)})`,
    )
}

/** A read-only connection to the sync worker's index, opened once it exists. */
export function indexReaderOf(stateDir: string): () => IndexDb | undefined {
  let db: IndexDb | undefined
  return () => (db ??= openIndexReader(stateDir))
}
