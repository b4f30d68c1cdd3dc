// Only what a client's operation changed is told to the scanner as the server's own write: an
// operation that fails without touching a name (a rename onto an existing name: ERR_EXISTS) must
// not pass another program's change made just before it at that name off as the server's own,
// so that change is still logged as a `local-change`. (`log --follow --json` prints the history
// first, so an entry logged before it started is seen too.)
import { describe, expect, it } from 'vitest'
import { startCluster, TestClient, waitFor, type ClusterServer } from '../helpers/index.js'

/** One server with x.txt and y.txt stored by a client, and that client. */
async function twoFiles(): Promise<{ a: ClusterServer; client: TestClient }> {
  const a = (await startCluster(1))[0]!
  const client = await TestClient.connect(a.port, { clientId: 'review2' })
  expect((await client.upload('x.txt', Buffer.from('x v1\n'))).ok).toBe(true)
  expect((await client.upload('y.txt', Buffer.from('y v1\n'))).ok).toBe(true)
  return { a, client }
}

/** Waits (with a deadline) for x.txt's local-change in A's own log: it must come. */
async function localChangeOfX(a: ClusterServer): Promise<void> {
  const follow = a.followLog()
  try {
    await waitFor(
      () => follow.entries().some((e) => e.op === 'local-change' && e.name === 'x.txt'),
      { what: "x.txt's local-change in A's log", timeoutMs: 20_000 },
    )
  } finally {
    follow.stop()
  }
}

describe('review2 i11: a failed write op does not explain away another program’s change', () => {
  it('x.txt changed by another program while a client’s mv x.txt y.txt keeps failing', async () => {
    const { a, client } = await twoFiles()
    try {
      // A client that retries a rename that cannot succeed (y.txt exists): nothing is written.
      let stop = false
      let failures = 0
      const loop = (async () => {
        while (!stop) {
          const reply = await client.rename('x.txt', 'y.txt')
          expect(reply.error?.code).toBe('ERR_EXISTS')
          failures++
        }
      })()
      await waitFor(() => failures >= 5, { what: 'the first failed renames' })
      // Meanwhile another program rewrites x.txt, and the renames go on failing after it.
      await a.write('x.txt', 'x changed by another program\n')
      const seen = failures
      await waitFor(() => failures >= seen + 10, { what: 'failed renames after the rewrite' })
      stop = true
      await loop
      await localChangeOfX(a)
    } finally {
      await client.close()
    }
  })

  it('one failed mv right after another program rewrote x.txt: that change is still logged', async () => {
    const { a, client } = await twoFiles()
    try {
      await a.write('x.txt', 'x changed by another program\n')
      const reply = await client.rename('x.txt', 'y.txt') // fails, writes nothing
      expect(reply.error?.code).toBe('ERR_EXISTS')
      await localChangeOfX(a)
    } finally {
      await client.close()
    }
  })
})
