// Only what a client's operation changed is told to the scanner as the server's own write: an
// operation that fails without touching a name (a rename onto an existing name: ERR_EXISTS) must
// not pass another program's change made just before it at that name off as the server's own,
// so that change is still logged as a `local-change`.
import { describe, expect, it } from 'vitest'
import { startCluster, TestClient, waitFor } from '../helpers/index.js'

describe('review2 i11: a failed write op does not explain away another program’s change', () => {
  it('x.txt changed by another program while a client’s mv x.txt y.txt keeps failing', async () => {
    const a = (await startCluster(1))[0]!
    const client = await TestClient.connect(a.port, { clientId: 'review2' })
    try {
      expect((await client.upload('x.txt', Buffer.from('x v1\n'))).ok).toBe(true)
      expect((await client.upload('y.txt', Buffer.from('y v1\n'))).ok).toBe(true)
      await new Promise((r) => setTimeout(r, 500)) // the scanner has seen both
      const follow = a.followLog()
      await new Promise((r) => setTimeout(r, 500))

      // A client that retries a rename that cannot succeed (y.txt exists): nothing is written.
      let stop = false
      let failures = 0
      const loop = (async () => {
        while (!stop) {
          const reply = await client.rename('x.txt', 'y.txt')
          expect(reply.ok).toBe(false)
          expect(reply.error?.code).toBe('ERR_EXISTS')
          failures++
        }
      })()
      await new Promise((r) => setTimeout(r, 200))
      // Meanwhile another program rewrites x.txt.
      await a.write('x.txt', 'x changed by another program\n')
      await new Promise((r) => setTimeout(r, 1_000))
      stop = true
      await loop
      expect(failures).toBeGreaterThan(10)

      await a.write('marker.txt', 'm')
      await waitFor(
        () => follow.entries().some((e) => e.op === 'local-change' && e.name === 'marker.txt'),
        { what: 'the marker’s local-change', timeoutMs: 20_000 },
      )
      await new Promise((r) => setTimeout(r, 300))
      const local = follow
        .entries()
        .filter((e) => e.op === 'local-change')
        .map((e) => String(e.name))
      expect(local).toContain('x.txt')
    } finally {
      await client.close()
    }
  })

  it('one failed mv right after another program rewrote x.txt: that change is still logged', async () => {
    const a = (await startCluster(1))[0]!
    const client = await TestClient.connect(a.port, { clientId: 'review2' })
    try {
      expect((await client.upload('x.txt', Buffer.from('x v1\n'))).ok).toBe(true)
      expect((await client.upload('y.txt', Buffer.from('y v1\n'))).ok).toBe(true)
      await new Promise((r) => setTimeout(r, 500))
      const follow = a.followLog()
      await new Promise((r) => setTimeout(r, 500))
      await a.write('x.txt', 'x changed by another program\n')
      const reply = await client.rename('x.txt', 'y.txt') // fails, writes nothing
      expect(reply.error?.code).toBe('ERR_EXISTS')
      await a.write('marker.txt', 'm')
      await waitFor(
        () => follow.entries().some((e) => e.op === 'local-change' && e.name === 'marker.txt'),
        { what: 'the marker’s local-change', timeoutMs: 20_000 },
      )
      await new Promise((r) => setTimeout(r, 300))
      const local = follow
        .entries()
        .filter((e) => e.op === 'local-change')
        .map((e) => String(e.name))
      expect(local).toContain('x.txt')
    } finally {
      await client.close()
    }
  })
})
