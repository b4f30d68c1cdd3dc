// The main thread's request window: a rid in flight makes a second asker wait; a record answers a
// replay; a failure or a worker's end lets a waiting replay run; a rid reused for another request
// is refused; the per-client bound keeps the newest. A real tandem.db in a temp dir.
import { describe, expect, it, vi } from 'vitest'
import { RequestGate } from '../../src/server/requests/request-gate.js'
import { openDatabase } from '../../src/server/state/database.js'
import { tempDir } from '../helpers/index.js'

function gateAndDb(perClient = 1_000, total?: number) {
  const db = openDatabase(tempDir('tandem-gate-'))
  const g = new RequestGate(db, 'A', () => undefined, {
    perClient,
    maxAgeMs: 60_000,
    ...(total === undefined ? {} : { total }),
  })
  return { g, db }
}

function gate(perClient = 1_000, total?: number) {
  return gateAndDb(perClient, total).g
}

const tag = (rid: string, target = 'f.txt') => ({ rid, op: 'append', target })

/** Whether `promise` has settled by the time the queued callbacks ran. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false
  void promise.then(
    () => (done = true),
    () => (done = true),
  )
  await new Promise((resolve) => setImmediate(resolve))
  return done
}

describe('request gate', () => {
  it('a second asker waits for the first, then gets its result', async () => {
    const g = gate()
    const first = {}
    const second = {}
    expect(await g.begin(tag('c:1'), first)).toEqual({ replay: false })
    const waiting = g.begin(tag('c:1'), second)
    expect(await settled(waiting)).toBe(false)
    g.done(tag('c:1'), { size: 3 }, ['f.txt'])
    expect(await waiting).toEqual({ replay: true, result: { size: 3 } })
  })

  it('a failure (abandon) or the owner ending lets the waiting one run itself', async () => {
    const g = gate()
    const a = {}
    const b = {}
    await g.begin(tag('c:2'), a)
    const waiting = g.begin(tag('c:2'), b)
    g.abandon('c:2', b) // not the owner: nothing changes
    expect(await settled(waiting)).toBe(false)
    g.abandon('c:2', a)
    expect(await waiting).toEqual({ replay: false })
    const c = {}
    const third = g.begin(tag('c:2'), c)
    expect(await settled(third)).toBe(false)
    g.endOwner(b)
    expect(await third).toEqual({ replay: false })
  })

  it('a rid reused for another request is ERR_BAD_REQUEST, in flight or recorded', async () => {
    const g = gate()
    await g.begin(tag('c:3'), {})
    await expect(g.begin(tag('c:3', 'other.txt'), {})).rejects.toMatchObject({
      code: 'ERR_BAD_REQUEST',
    })
    g.done(tag('c:3'), { ok: 1 })
    await expect(g.begin({ ...tag('c:3'), op: 'delete' }, {})).rejects.toMatchObject({
      code: 'ERR_BAD_REQUEST',
    })
  })

  it('keeps the newest rids per client; older ones are new requests again', async () => {
    const g = gate(2)
    for (const seq of [1, 2, 3]) {
      await g.begin(tag(`w:${seq}`), {})
      g.done(tag(`w:${seq}`), { seq }, ['f.txt'])
    }
    await g.begin(tag('other:1'), {})
    g.done(tag('other:1'), { seq: 1 }, ['f.txt']) // another client's rids do not push these out
    expect(await g.begin(tag('w:3'), {})).toEqual({ replay: true, result: { seq: 3 } })
    expect(await g.begin(tag('w:2'), {})).toEqual({ replay: true, result: { seq: 2 } })
    expect(await g.begin(tag('w:1'), {})).toEqual({ replay: false })
    // What the sync worker is told at start: the newest first, with the names they wrote.
    expect(g.recent().map((r) => r.request.rid)).toEqual(['other:1', 'w:3', 'w:2'])
    expect(g.recent()[0]!.names).toEqual(['f.txt'])
  })

  it('prunes a client every tenth of its bound: never more than that past it, the newest kept', async () => {
    const g = gate(20)
    for (let seq = 1; seq <= 45; seq++) {
      await g.begin(tag(`w:${seq}`), {})
      g.done(tag(`w:${seq}`), { seq }, ['f.txt'])
      const kept = g.recent(100).map((r) => r.request.rid)
      expect(kept.length).toBeLessThanOrEqual(20 + 2)
      expect(kept[0]).toBe(`w:${seq}`)
    }
    // 45 records, pruned at the 2nd, 4th, … 44th: the newest 20 and the one after the last prune.
    expect(g.recent(100)).toHaveLength(21)
    expect(await g.begin(tag('w:25'), {})).toEqual({ replay: true, result: { seq: 25 } })
    expect(await g.begin(tag('w:24'), {})).toEqual({ replay: false })
  })

  it('keeps at most its total in all, however many clients the rids name', async () => {
    const g = gate(1_000, 10)
    for (let client = 1; client <= 25; client++) {
      await g.begin(tag(`made-up-${client}:1`), {})
      g.done(tag(`made-up-${client}:1`), { client }, ['f.txt'])
    }
    // Pruned every `total` records: between 10 and 20 kept, the newest ones.
    const kept = g.recent(100).map((r) => r.request.rid)
    expect(kept.length).toBeGreaterThanOrEqual(10)
    expect(kept.length).toBeLessThanOrEqual(20)
    expect(kept[0]).toBe('made-up-25:1')
    expect(await g.begin(tag('made-up-1:1'), {})).toEqual({ replay: false })
  })

  it('the doneSoon calls of one turn are recorded in one transaction, then each is settled', async () => {
    const { g, db } = gateAndDb()
    const transactions = vi.spyOn(db, 'transaction')
    const owner = {}
    for (let i = 1; i <= 5; i++) await g.begin(tag(`c:${i}`, `f${i}`), owner)
    const replay = g.begin(tag('c:3', 'f3'), {})
    const records = [1, 2, 3, 4, 5].map((i) => g.doneSoon(tag(`c:${i}`, `f${i}`), { i }, [`f${i}`]))
    // Not recorded yet (the turn has not ended): the replay still waits.
    expect(g.recent(10)).toEqual([])
    expect((await Promise.all(records)).map((r) => r.result)).toEqual([
      { i: 1 },
      { i: 2 },
      { i: 3 },
      { i: 4 },
      { i: 5 },
    ])
    expect(transactions).toHaveBeenCalledTimes(1)
    expect(await replay).toEqual({ replay: true, result: { i: 3 } })
    expect(g.recent(10).map((r) => r.request.rid)).toEqual(['c:5', 'c:4', 'c:3', 'c:2', 'c:1'])
  })

  it('an owner that ends (or gives up) with its record still queued: the record goes in first', async () => {
    for (const giveUp of ['endOwner', 'abandon'] as const) {
      const g = gate()
      const owner = {}
      expect(await g.begin(tag('c:1'), owner)).toEqual({ replay: false })
      const replay = g.begin(tag('c:1'), {}) // a reconnected client's replay, waiting
      const recorded = g.doneSoon(tag('c:1'), { n: 1 }, ['f.txt'])
      // The worker's side ends in the same turn (its thread died right after it sent the record).
      if (giveUp === 'endOwner') g.endOwner(owner)
      else g.abandon('c:1', owner)
      expect(await replay, giveUp).toEqual({ replay: true, result: { n: 1 } })
      expect((await recorded).result).toEqual({ n: 1 })
    }
  })

  it('a record of a turn that cannot be stored fails alone; the others are recorded', async () => {
    const g = gate()
    const owner = {}
    for (const rid of ['c:1', 'c:2', 'c:3']) await g.begin(tag(rid), owner)
    const outcomes = await Promise.allSettled([
      g.doneSoon(tag('c:1'), { ok: 1 }, ['f.txt']),
      g.doneSoon(tag('c:2'), { bad: 1n }, ['f.txt']), // JSON cannot hold a BigInt
      g.doneSoon(tag('c:3'), { ok: 3 }, ['f.txt']),
    ])
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect(await g.begin(tag('c:1'), {})).toEqual({ replay: true, result: { ok: 1 } })
    expect(await g.begin(tag('c:3'), {})).toEqual({ replay: true, result: { ok: 3 } })
    // The failed one was never recorded: once its owner gives it up, it may run again.
    g.abandon('c:2', owner)
    expect(await g.begin(tag('c:2'), {})).toEqual({ replay: false })
  })
})
