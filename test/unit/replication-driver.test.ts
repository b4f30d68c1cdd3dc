// The replication driver over an in-memory cluster (its applier side faked: no disk here, the
// real takeCopy/dropCopy are exercised by the integration test): it copies what this member
// should hold, never more than 2 at a time; it drops a surplus copy only once no member is in its
// grace window and every desired holder holds the version, checked again just before the drop;
// status counts what it did. Also the members table (a real index database) and the member view.
import { describe, expect, it } from 'vitest'
import { openIndexDb } from '../../src/server/index/database.js'
import { MemberRecords, readMemberRecords } from '../../src/server/index/member-records.js'
import type { PeerSource } from '../../src/server/sync/peer-source.js'
import { ReplicationDriver, type CopyMaker } from '../../src/server/sync/replication/driver.js'
import { MemberView } from '../../src/server/sync/replication/member-view.js'
import type { DesiredHolders, PlanFile } from '../../src/server/sync/replication/plan.js'
import { registerCleanup, tempDir, waitFor } from '../helpers/index.js'

const HASH = 'c'.repeat(64)

function source(name: string): PeerSource {
  return { name, fetch: () => Promise.reject(new Error('not used')) }
}

function file(name: string, held: boolean, holders: string[]): PlanFile {
  return { name, hash: HASH, size: 100, fileId: name, creator: null, held, holders }
}

/** A driver for self 'A' over `files`, with the desired sets given per name. */
function setup(o: {
  files: PlanFile[]
  desired: Record<string, string[]>
  view: MemberView
  copyDelayMs?: number
  maxInFlight?: number
}) {
  const state = new Map(o.files.map((f) => [f.name, { ...f, holders: [...f.holders] }]))
  let inFlight = 0
  let maxInFlight = 0
  const taken: string[] = []
  const dropped: string[] = []
  const copies: CopyMaker = {
    takeCopy: async (_source, name) => {
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      await new Promise((r) => setTimeout(r, o.copyDelayMs ?? 20))
      inFlight--
      state.get(name)!.held = true
      taken.push(name)
      return 'taken'
    },
    dropCopy: (name) => {
      state.get(name)!.held = false
      dropped.push(name)
      return Promise.resolve('dropped')
    },
  }
  const desired: DesiredHolders = (f) => o.desired[f.name] ?? []
  const driver = new ReplicationDriver({
    self: 'A',
    selfWeight: 1,
    replicas: 2,
    view: o.view,
    desired,
    files: () => [...state.values()].map((f) => ({ ...f })),
    file: (name) => {
      const f = state.get(name)
      return f && { ...f }
    },
    copies: () => copies,
    sourceFor: (peer) => source(peer),
    report: () => undefined,
    warn: () => undefined,
    stableMs: 300,
    ...(o.maxInFlight === undefined ? {} : { maxInFlight: o.maxInFlight }),
  })
  registerCleanup(() => driver.stop())
  return { driver, state, taken, dropped, maxInFlight: () => maxInFlight }
}

describe('replication driver', () => {
  it('copies what this member should hold from an up holder, at most N at a time', async () => {
    const view = new MemberView({ self: 'A', graceMs: 60_000 })
    view.up('B', 1)
    const names = Array.from({ length: 7 }, (_, i) => `f${i}`)
    const t = setup({
      view,
      files: [...names.map((n) => file(n, false, ['B'])), file('elsewhere', false, ['B'])],
      desired: { ...Object.fromEntries(names.map((n) => [n, ['A', 'B']])), elsewhere: ['B', 'C'] },
      maxInFlight: 2,
    })
    t.driver.start()
    await waitFor(() => t.taken.length === 7, { what: 'the 7 copies' })
    expect(t.taken.sort()).toEqual(names)
    expect(t.maxInFlight()).toBeLessThanOrEqual(2)
    expect(t.maxInFlight()).toBe(2)
    expect(t.dropped).toEqual([])
    expect(t.driver.status().healing).toMatchObject({ copied: 7, bytes: 700, dropped: 0 })
  })

  it('drops a surplus copy only once no member is in its grace window and every desired holder holds it', async () => {
    const view = new MemberView({ self: 'A', graceMs: 600 })
    view.up('B', 1)
    view.up('C', 1)
    view.known('E', 1) // remembered, not seen since this start: in its grace window
    const t = setup({
      view,
      files: [file('held-by-both', true, ['B', 'C']), file('b-lacks', true, ['C'])],
      desired: { 'held-by-both': ['B', 'C'], 'b-lacks': ['B', 'C'] },
    })
    t.driver.start()
    await waitFor(() => t.driver.status().files === 2, { what: 'a first plan' })
    expect(t.dropped).toEqual([])
    // E is given up 600 ms after the start: the driver plans again then, and drops.
    await waitFor(() => t.dropped.length === 1, { what: 'the drop', timeoutMs: 8_000 })
    expect(t.dropped).toEqual(['held-by-both'])
    // b-lacks: B does not hold it, so A keeps its copy however often it plans.
    t.driver.nudge()
    await waitFor(() => t.driver.status().surplus === 0, { what: 'a plan after the drop' })
    expect(t.state.get('b-lacks')!.held).toBe(true)
    expect(t.dropped).toEqual(['held-by-both'])
    expect(t.driver.status()).toMatchObject({ files: 2, held: 1, underReplicated: 0 })
  })

  it('keeps at most 8 MiB of copies in flight (a big file goes alone)', async () => {
    const view = new MemberView({ self: 'A', graceMs: 60_000 })
    view.up('B', 1)
    const big = (name: string): PlanFile => ({ ...file(name, false, ['B']), size: 5 * 1024 ** 2 })
    const t = setup({
      view,
      files: [big('big1'), big('big2'), big('big3')],
      desired: { big1: ['A', 'B'], big2: ['A', 'B'], big3: ['A', 'B'] },
    })
    t.driver.start()
    await waitFor(() => t.taken.length === 3, { what: 'the 3 copies' })
    expect(t.maxInFlight()).toBe(1)
  })
})

describe('members table and member view', () => {
  it('records a member at each link-up, keeping what a later one does not tell', () => {
    const db = openIndexDb(tempDir('tandem-members-'))
    registerCleanup(() => {
      db.close()
    })
    const records = new MemberRecords(db)
    records.up({ name: 'B', address: '127.0.0.1:7001', http: '127.0.0.1:8001', capacity: 40 }, 5)
    records.up({ name: 'B', address: '127.0.0.1:7002' }, 9)
    records.seen('B', 12)
    expect(readMemberRecords(db)).toEqual([
      {
        name: 'B',
        address: '127.0.0.1:7002',
        http: '127.0.0.1:8001',
        capacity: 40,
        lastUp: 12,
        up: false,
      },
    ])
    records.up({ name: 'B', address: '127.0.0.1:7002', http: null, capacity: null }, 20)
    expect(records.get('B')).toMatchObject({ http: null, capacity: null, lastUp: 20, up: true })
    // A new start: no link is up yet, whatever was recorded.
    records.allDown()
    expect(records.get('B')).toMatchObject({ lastUp: 20, up: false })
  })

  it('counts a member down since it went down (or since this start), given up after the grace', () => {
    const clock = { now: 1_000 }
    const view = new MemberView({ self: 'A', graceMs: 100, now: () => clock.now })
    view.known('C', 3)
    view.up('B', null)
    view.known('A', 5) // itself: never a member of its own view
    expect(view.members()).toEqual([
      { name: 'C', weight: 3, state: 'grace' },
      { name: 'B', weight: 1, state: 'up' },
    ])
    clock.now = 1_050
    view.down('B')
    expect(view.nextGiveUp()).toBe(1_100)
    clock.now = 1_120
    expect(view.members().map((m) => m.state)).toEqual(['gone', 'grace'])
    clock.now = 1_150
    expect(view.members().map((m) => m.state)).toEqual(['gone', 'gone'])
    expect(view.nextGiveUp()).toBeUndefined()
    // The view last changed when B was given up (1,150), after C was (1,100).
    expect(view.stableSince()).toBe(1_150)
    clock.now = 2_000
    view.up('C', 3)
    expect(view.stableSince()).toBe(2_000)
    // A name first heard of now (a file's creator) is in its grace window from now, not from the start.
    view.known('D', null)
    expect(view.members().find((m) => m.name === 'D')).toEqual({
      name: 'D',
      weight: 1,
      state: 'grace',
    })
    clock.now = 2_099
    expect(view.members().find((m) => m.name === 'D')?.state).toBe('grace')
  })
})
