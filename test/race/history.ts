/**
 * A model of a concurrent run, built from what the clients saw: each operation's send and answer
 * times (one clock: all clients live in the test process) and outcome. The server applies each
 * operation at some instant inside its [send, ack] interval; where the intervals of the operations
 * that decide a name's content do not overlap, their order is certain, and so is the name's state.
 * Elsewhere the model says "uncertain" (undefined) and the checks skip it.
 */

export type OpKind = 'upload' | 'download' | 'append' | 'rename' | 'delete' | 'list'

export interface OpRecord {
  client: number
  kind: OpKind
  name?: string
  from?: string
  to?: string
  /** The upload's unique id (its body starts with a header naming it). */
  uid?: string
  /** The append's unique id (its body is one line naming it). */
  aid?: string
  send: number
  ack: number
  ok: boolean
  code?: string
  /** A download's body. */
  body?: Buffer
  /** A list's names. */
  names?: string[]
}

/** What a name holds: nothing, or the file created by upload `uid` (plus appends). */
export type NameState = { kind: 'empty' } | { kind: 'file'; uid: string } | undefined

function overlaps(a: OpRecord, b: OpRecord): boolean {
  return a.send < b.ack && b.send < a.ack
}

export class History {
  readonly ops: readonly OpRecord[]
  readonly #identity = new Map<string, OpRecord[]>()

  constructor(ops: readonly OpRecord[]) {
    this.ops = ops
    for (const op of ops) {
      if (!op.ok) continue
      if (op.kind === 'upload' || op.kind === 'delete') this.#add(op.name!, op)
      if (op.kind === 'rename') {
        this.#add(op.from!, op)
        this.#add(op.to!, op)
      }
    }
  }

  #add(name: string, op: OpRecord): void {
    const list = this.#identity.get(name) ?? []
    list.push(op)
    this.#identity.set(name, list)
  }

  /**
   * The state of `name` throughout [t0, t1], if certain: no successful operation that changes
   * which file the name holds overlaps the interval (except `self`, the operation asking), and
   * the last one before it is ordered against its neighbours.
   */
  stateAt(name: string, t0: number, t1: number, self?: OpRecord): NameState {
    const ops = (this.#identity.get(name) ?? []).filter((op) => op !== self)
    const probe = { send: t0, ack: t1 } as OpRecord
    if (ops.some((op) => overlaps(op, probe))) return undefined
    const before = ops.filter((op) => op.ack <= t0)
    if (before.length === 0) return { kind: 'empty' }
    const last = before.reduce((a, b) => (b.ack > a.ack ? b : a))
    if (before.some((op) => op !== last && overlaps(op, last))) return undefined
    if (last.kind === 'upload') return { kind: 'file', uid: last.uid! }
    if (last.kind === 'delete' || last.from === name) return { kind: 'empty' }
    // Renamed here from `last.from`: the file is whatever that name held when it was renamed.
    return this.stateAt(last.from!, last.send, last.ack, last)
  }

  /** The state of `name` while `op` ran (its own effect excluded). */
  stateDuring(name: string, op: OpRecord): NameState {
    return this.stateAt(name, op.send, op.ack, op)
  }
}
