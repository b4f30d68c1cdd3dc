// The replication driver without --replicas (K null: every member holds every file), as the
// engine runs it once --replicas was removed and the index still lists files held elsewhere: it
// fetches each of them from an up member that holds it, with the real placement rule (every
// candidate desired), never drops a copy (this member is always desired), and ends once every
// live file is held here (it plans no more: a full-mirroring server pays nothing after that).
// The applier side is faked (no disk); the real takeCopy is exercised by the integration test
// test/review-i13-a-replicas-removed.test.ts.
import { describe, expect, it } from 'vitest'
import { desiredHolders } from '../../src/server/placement/desired.js'
import type { PeerSource } from '../../src/server/sync/peer-source.js'
import { ReplicationDriver, type CopyMaker } from '../../src/server/sync/replication/driver.js'
import { MemberView } from '../../src/server/sync/replication/member-view.js'
import type { PlanFile } from '../../src/server/sync/replication/plan.js'
import { registerCleanup, waitFor } from '../helpers/index.js'

const HASH = 'd'.repeat(64)

function file(name: string, held: boolean, holders: string[]): PlanFile {
  return { name, hash: HASH, size: 10, fileId: name, creator: 'B', held, holders }
}

describe('replication driver without --replicas (every member desired)', () => {
  it('fetches every file held elsewhere, drops none, then ends', async () => {
    const view = new MemberView({ self: 'A', graceMs: 60_000 })
    view.up('B', 1)
    view.up('C', 1)
    const state = new Map(
      [
        ...Array.from({ length: 6 }, (_, i) => file(`far-${i}`, false, i % 2 ? ['B'] : ['B', 'C'])),
        file('here.txt', true, ['B', 'C']),
      ].map((f) => [f.name, f]),
    )
    const taken: string[] = []
    const dropped: string[] = []
    let plans = 0
    const copies: CopyMaker = {
      takeCopy: (source: PeerSource, name) => {
        expect(state.get(name)?.holders).toContain(source.name)
        state.get(name)!.held = true
        taken.push(name)
        return Promise.resolve('taken')
      },
      dropCopy: (name) => {
        dropped.push(name)
        return Promise.resolve('dropped')
      },
    }
    const driver = new ReplicationDriver({
      self: 'A',
      selfWeight: 1,
      replicas: null,
      untilAllHeld: true,
      view,
      desired: desiredHolders,
      files: () => {
        plans++
        return [...state.values()].map((f) => ({ ...f }))
      },
      file: (name) => {
        const f = state.get(name)
        return f && { ...f }
      },
      copies: () => copies,
      sourceFor: (peer) => ({ name: peer, fetch: () => Promise.reject(new Error('not used')) }),
      report: () => undefined,
      warn: () => undefined,
      stableMs: 0,
    })
    registerCleanup(() => driver.stop())
    driver.start()
    await waitFor(() => taken.length === 6, { what: 'the 6 files held elsewhere fetched' })
    expect(taken.sort()).toEqual(Array.from({ length: 6 }, (_, i) => `far-${i}`))
    // The next round finds every file held here and ends: no more planning, however nudged.
    await waitFor(() => !driver.active, { what: 'the driver to end', timeoutMs: 10_000 })
    const planned = plans
    driver.nudge()
    expect(driver.active).toBe(false)
    expect(plans).toBe(planned)
    expect(dropped).toEqual([])
  }, 20_000)
})
