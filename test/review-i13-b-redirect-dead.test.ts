// Review of issue 13 (reviewer B), the end-to-end effect of review-i13-b-dead-holder-first.test.ts:
// a file held at A and B, asked over HTTP at C (no copy). B is killed: C knows it is down, A is
// up. C's 307 must send the client to A — it sends it to B's dead HTTP address (the holder whose
// link went down most recently has the newest members.last_up, and comes first).
//
// Three real servers on loopback (--replicas 2, each the others' --peer; --peer-timeout 1500ms so
// that B is seen down quickly; the default --rereplicate-after 60s, so nothing heals meanwhile).
import { describe, expect, it } from 'vitest'
import { waitFor, type ClusterServer } from './helpers/index.js'
import { startPlacementCluster } from './helpers/placement.js'

/** Three members on loopback, each the others' --peer, --replicas 2, HTTP on. */
function startReplicated(): Promise<ClusterServer[]> {
  return startPlacementCluster({
    members: 3,
    http: true,
    fast: false,
    extraArgs: ['--peer-timeout', '1500ms'],
  })
}

describe('HTTP at a non-holder when a holder is down (review i13 B)', () => {
  it('the 307 goes to the live holder, not the dead one', async () => {
    const servers = await startReplicated()
    const [a, b, c] = servers as [ClusterServer, ClusterServer, ClusterServer]
    for (let i = 0; i < 8; i++) await a.write(`r-${i}.txt`, `redirect me ${i}\n`)
    const far = await waitFor(
      async () => {
        const rows = await c.list()
        if (rows.length < 8 || rows.some((r) => r.servers.length !== 2)) return false
        return rows.find((r) => r.servers.join() === 'A,B')?.name ?? false
      },
      { timeoutMs: 30_000, what: 'every file on 2 members, one at A and B only' },
    )
    const deadUrl = b.httpUrl
    await b.kill9()
    await waitFor(
      async () => {
        const peers = (await c.status()).peers
        return (
          peers.some((p) => p.name === 'B' && !p.up) && peers.some((p) => p.name === 'A' && p.up)
        )
      },
      { timeoutMs: 15_000, what: 'C to see B down and A up' },
    )
    const res = await fetch(`${c.httpUrl}/download/${encodeURIComponent(far)}`, {
      redirect: 'manual',
    })
    await res.body?.cancel()
    expect(res.status).toBe(307)
    expect(res.headers.get('location'), `where C sends the client (B, down, is ${deadUrl})`).toBe(
      `${a.httpUrl}/download/${encodeURIComponent(far)}`,
    )
  }, 120_000)
})
