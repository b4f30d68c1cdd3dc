// Full mirroring (no --replicas) pays nothing for partial replication: a server whose disk holds
// every file its index lists builds no replication at all (no member view, no plan, no members
// table). Only a server that lists files held elsewhere (--replicas was removed) does, until it
// holds them all (test/review-i13-a-replicas-removed.test.ts). The members table, written only by
// replication, is the trace: it stays empty here.
import { describe, expect, it } from 'vitest'
import { openIndexReader } from '../../src/server/index/database.js'
import { registerCleanup } from '../helpers/index.js'
import { makeFiles, putFiles, startPlacementCluster, waitCopies } from '../helpers/placement.js'

describe('full mirroring without --replicas', () => {
  it('builds no replication: every file on both disks, no member recorded, no placement status', async () => {
    const servers = await startPlacementCluster({ members: 2, replicas: null })
    const expected = await putFiles(servers[0]!, makeFiles(4, 512))
    await waitCopies(servers, expected, { min: 2, what: 'each file on both disks' })
    for (const s of servers) {
      expect((await s.status()).placement, `${s.name}'s status`).toBeUndefined()
      const db = openIndexReader(s.stateDir)
      expect(db, `${s.name}'s index.db`).toBeDefined()
      registerCleanup(() => void db?.close())
      const rows = db!.prepare('SELECT COUNT(*) AS n FROM members').get() as { n: number }
      expect(rows.n, `members recorded at ${s.name}`).toBe(0)
    }
  }, 60_000)
})
