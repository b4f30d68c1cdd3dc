// A member that goes silent is down after --peer-timeout, also while a change of its waits for
// its content: here a peer 'F' announces a file, never answers the content channel's hello, then
// stops its heartbeats (the sockets stay open, as a SIGSTOPped or wedged server's do). The fetch
// waiting for F's content must not keep F shown 'up' for ever.
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it, onTestFailed } from 'vitest'
import type { StatusResult } from '../../src/protocol/index.js'
import { ClusterServer, TestClient, freePorts, tempDir, waitFor } from '../helpers/index.js'
import { followedFakePeer, type FollowedFakePeer } from '../helpers/fake-peer.js'

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

let fake: FollowedFakePeer | undefined
let server: ClusterServer | undefined
afterEach(async () => {
  await server?.stop()
  await fake?.close()
  server = undefined
  fake = undefined
})

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
    fake = await fakePeer()
    const base = tempDir('tandem-review-silent-')
    mkdirSync(path.join(base, 'root'))
    mkdirSync(path.join(base, 'state'))
    const [port, syncPort] = await freePorts(2)
    server = new ClusterServer(
      'A',
      path.join(base, 'root'),
      path.join(base, 'state'),
      port!,
      syncPort!,
      [`127.0.0.1:${fake.controlPort}`],
      ['--peer-timeout', '2s'],
    )
    onTestFailed(() => console.error(server?.output().slice(-4000)))
    await server.start()
    const f = fake
    await waitFor(async () => (await stateOfF(port!)) === 'up', {
      timeoutMs: 20_000,
      intervalMs: 100,
      what: 'F up at A',
    })
    await waitFor(() => f.contentOpened, { timeoutMs: 20_000, what: 'A to ask F for content' })
    f.silent = true
    const silentAt = Date.now()
    await waitFor(async () => (await stateOfF(port!)) !== 'up', {
      timeoutMs: 12_000,
      intervalMs: 100,
      what: 'F no longer up at A',
    })
    expect(Date.now() - silentAt).toBeLessThanOrEqual(2_000 + 2_000 + 1_000)
  })
})
