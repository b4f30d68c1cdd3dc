// Review of issue 13 (reviewer B): a user lock asked at a member that holds no copy of the file is
// taken at a holder (ops/user-locks.ts: ERR_MOVED, the client follows invisibly), but the UNLOCK
// asked at that same member is not followed: ops/user-locks.ts unlock() has no orMoved, and the
// sync worker there finds no lock of its own (user-locks.ts: ERR_NOT_FOUND "'x' is not locked at
// C"). So `tandem lock x` then `tandem unlock x`, the same client at the same server, fails, and
// the lock stays at the holder — holding back every change to the file there — until its TTL
// (none by default) or a forced unlock at the holder, which the user was never told of.
//
// Three real servers on loopback (--replicas 2, each the others' --peer).
import { describe, expect, it } from 'vitest'
import { cliAs } from './client/run-cli.js'
import { waitFor, type ClusterServer } from './helpers/index.js'
import { startPlacementCluster } from './helpers/placement.js'

/** Three members on loopback, each the others' --peer, --replicas 2, HTTP on. */
function startReplicated(): Promise<ClusterServer[]> {
  return startPlacementCluster({ members: 3, http: true, fast: false })
}

describe('a user lock at a member without a copy (review i13 B)', () => {
  it('the client that locked a file there can unlock it there', async () => {
    const servers = await startReplicated()
    const [a, , c] = servers as [ClusterServer, ClusterServer, ClusterServer]
    // Files made at A (kept there), the second copy at B or C: one that C does not hold.
    for (let i = 0; i < 8; i++) await a.write(`l-${i}.txt`, `lock me ${i}\n`)
    const far = await waitFor(
      async () => {
        const rows = await c.list()
        if (rows.length < 8 || rows.some((r) => r.servers.length !== 2)) return false
        return rows.find((r) => !r.servers.includes('C'))?.name ?? false
      },
      { timeoutMs: 30_000, what: 'every file on 2 members, one not at C' },
    )
    const alice = cliAs(c.address, 'alice')

    const locked = await alice.tandem(['lock', far])
    expect([locked.code, locked.stderr], 'lock at C (followed to a holder)').toEqual([0, ''])
    await waitFor(
      async () => (await c.status()).locks.some((l) => l.name === far && l.owner === 'alice'),
      { timeoutMs: 10_000, what: 'the lock known at C' },
    )

    const unlocked = await alice.tandem(['unlock', far])
    expect([unlocked.code, unlocked.stderr], 'unlock at C by the same client').toEqual([0, ''])
    await waitFor(
      async () => {
        for (const s of servers)
          if ((await s.status()).locks.some((l) => l.name === far)) return false
        return true
      },
      { timeoutMs: 10_000, what: 'the lock gone everywhere' },
    )
  }, 120_000)
})
