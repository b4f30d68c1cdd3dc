// `status` counts what a peer has not received: with B down, the changes made at A wait for it,
// and A says so (backlog 3, not "0 changes behind"); once B is back it receives exactly those,
// and A's backlog for it is 0. Real servers, the real CLI for what a person reads.
import { describe, expect, it } from 'vitest'
import type { LogEntry, PeerStatus } from '../../src/protocol/index.js'
import { runCli } from '../client/run-cli.js'
import { startCluster, waitFor, type ClusterServer } from '../helpers/index.js'

async function peerAt(server: ClusterServer, name: string): Promise<PeerStatus | undefined> {
  return (await server.status()).peers.find((p) => p.name === name)
}

describe('status: the backlog of a peer', () => {
  it('counts the changes a down peer has not received, and goes to 0 once it has them', async () => {
    const [a, b] = await startCluster(2)
    await a.write('before.txt', 'known to both')
    await waitFor(async () => (await b.list()).some((r) => r.name === 'before.txt'), {
      what: 'before.txt at B',
    })
    await waitFor(async () => (await peerAt(a, 'B'))?.backlog === 0, { what: 'backlog 0 at A' })
    const pulledBefore = (await b.cli<LogEntry[]>('log', '--limit', '1000')).filter(
      (e) => e.op === 'sync-pull',
    ).length

    await b.stop()
    await waitFor(async () => (await peerAt(a, 'B'))?.state === 'down', { what: 'B down at A' })
    for (const name of ['one.txt', 'two.txt', 'three.txt']) {
      const run = await runCli(['--server', a.address, 'create', name, '--text', name])
      expect(run.code, run.stderr).toBe(0)
    }
    const down = await waitFor(
      async () => {
        const peer = await peerAt(a, 'B')
        return peer?.backlog === 3 ? peer : undefined
      },
      { what: 'backlog 3 at A' },
    )
    expect(down).toMatchObject({ state: 'down', backlog: 3 })
    const human = await runCli(['--server', a.address, 'status'])
    expect(human.stdout.toString()).toMatch(
      /B \(127\.0\.0\.1:\d+\) down, .*backlog 3 \(changes here it has not received yet\)/,
    )
    const json = JSON.parse(
      (await runCli(['--server', a.address, '--json', 'status'])).stdout.toString(),
    ) as { peers: PeerStatus[] }
    expect(json.peers.find((p) => p.name === 'B')?.backlog).toBe(3)

    await b.start()
    await waitFor(async () => (await peerAt(a, 'B'))?.backlog === 0, {
      timeoutMs: 20_000,
      what: 'backlog 0 at A once B is back',
    })
    const pulled = (await b.cli<LogEntry[]>('log', '--limit', '1000')).filter(
      (e) => e.op === 'sync-pull',
    )
    // Exactly those three (applied concurrently: in any order).
    expect(
      pulled
        .slice(pulledBefore)
        .map((e) => e.name)
        .sort(),
    ).toEqual(['one.txt', 'three.txt', 'two.txt'])
    // A's own link to B comes back too (after its backoff), with nothing waiting.
    await waitFor(async () => (await peerAt(a, 'B'))?.state === 'up', { what: 'B up at A' })
    expect(await peerAt(a, 'B')).toMatchObject({ state: 'up', backlog: 0 })
  })
})
