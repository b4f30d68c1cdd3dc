// A member that goes silent is down after --peer-timeout, also while a change of its waits for
// its content: here a peer 'F' announces a file, never answers the content channel's hello, then
// stops its heartbeats (the sockets stay open, as a SIGSTOPped or wedged server's do). The fetch
// waiting for F's content must not keep F shown 'up' for ever.
import { describe, expect, it } from 'vitest'
import type { StatusResult } from '../../src/protocol/index.js'
import { TestClient, waitFor } from '../helpers/index.js'
import { followedFakePeer, serverFollowing, type FollowedFakePeer } from '../helpers/fake-peer.js'

/** F announces this entry, welcomes its index channel, never its content channel. */
const fakePeer = (): Promise<FollowedFakePeer> =>
  followedFakePeer([
    {
      name: 'waiting.txt',
      size: 5,
      mtime: Date.now(),
      hash: 'a'.repeat(64),
      deleted: false,
      version: { F: 1 },
      origin: 'F',
      seq: 1,
    },
  ])

async function stateOfF(port: number): Promise<string | undefined> {
  const client = await TestClient.connect(port, { clientId: 'review' })
  try {
    const reply = await client.status()
    return (reply.result as StatusResult | undefined)?.members.find((m) => m.name === 'F')?.state
  } finally {
    await client.close()
  }
}

describe('review: a silent member with a fetch pending', () => {
  it('is down after --peer-timeout, though its content never came', async () => {
    const f = await fakePeer()
    const server = await serverFollowing(f, ['--peer-timeout', '2s'])
    await server.start()
    await waitFor(async () => (await stateOfF(server.port)) === 'up', {
      timeoutMs: 20_000,
      intervalMs: 100,
      what: 'F up at A',
    })
    await waitFor(() => f.contentOpened, { timeoutMs: 20_000, what: 'A to ask F for content' })
    f.silent = true
    const silentAt = Date.now()
    await waitFor(async () => (await stateOfF(server.port)) !== 'up', {
      timeoutMs: 12_000,
      intervalMs: 100,
      what: 'F no longer up at A',
    })
    expect(Date.now() - silentAt).toBeLessThanOrEqual(2_000 + 2_000 + 1_000)
  })
})
