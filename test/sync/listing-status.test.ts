// The composite listing and the peer status: `ls` on B lists a file only A holds so far, and after
// convergence every file with both servers' names; `status` shows a peer up, down when it stops,
// and up again when it returns.
import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  sha256Of,
  startCluster,
  waitFor,
  waitPeersUp,
  waitTree,
  writeRandomFile,
  type ClusterServer,
  type ClusterStatus,
  type ListRow,
} from '../helpers/index.js'

const MiB = 1024 * 1024

function peerNamed(status: ClusterStatus, name: string) {
  return status.peers.find((peer) => peer.name === name)
}

describe('composite listing', () => {
  it('ls on B lists a file only A holds so far, then both servers once it is mirrored', async () => {
    const [a, b] = await startCluster(2)
    await b.write('from-b.txt', 'made on B\n')
    // A large file placed on A at once: B knows of it (from A's index) well before it holds it.
    const staging = path.join(path.dirname(a.root), 'staging.bin')
    const bigSha = await writeRandomFile(staging, 128 * MiB)
    await fs.rename(staging, a.file('big.bin'))

    const onlyA = await waitFor(
      async () => {
        const row = (await b.list()).find((r) => r.name === 'big.bin')
        return row !== undefined && !row.servers.includes('B') && row
      },
      { timeoutMs: 10_000, intervalMs: 10, what: 'big.bin in B’s listing, held by A only' },
    )
    expect(onlyA.servers).toEqual(['A'])
    expect(onlyA.size).toBe(128 * MiB)

    await waitTree(
      [a, b],
      new Map([
        ['big.bin', bigSha],
        ['from-b.txt', sha256Of('made on B\n')],
      ]),
      30_000,
    )
    // B's own listing catches up with its disk as soon as it has applied the pull.
    const rows = await waitFor(
      async () => {
        const listed = await b.cli<ListRow[]>('ls')
        return listed.every((row) => row.servers.length === 2) && listed
      },
      { timeoutMs: 5_000, intervalMs: 200, what: 'every row of B’s ls to name both servers' },
    )
    expect(rows.map((row) => [row.index, row.name, [...row.servers].sort()])).toEqual([
      [0, 'big.bin', ['A', 'B']],
      [1, 'from-b.txt', ['A', 'B']],
    ])
    expect((await a.cli<ListRow[]>('ls')).map((row) => row.name)).toEqual(['big.bin', 'from-b.txt'])
  }, 60_000)
})

describe('peer status', () => {
  it('status shows the peer up, down once it stops, and up again when it returns', async () => {
    const [a, b] = await startCluster(2)
    const statusOf = (server: ClusterServer) => server.cli<ClusterStatus>('status')

    const first = await statusOf(a)
    expect(first.sync?.state).toBe('running')
    expect(peerNamed(first, 'B')).toMatchObject({ address: b.address, up: true })
    expect(typeof peerNamed(first, 'B')?.lastHeard).toBe('number')
    expect(peerNamed(await statusOf(b), 'A')).toMatchObject({ address: a.address, up: true })

    expect(await b.stop()).toBe(0)
    await waitFor(async () => peerNamed(await a.status(), 'B')?.up === false, {
      timeoutMs: 10_000,
      intervalMs: 100,
      what: 'A to show B down',
    })
    // The peer stays listed while down, by name, and the CLI says so too.
    expect(peerNamed(await statusOf(a), 'B')).toMatchObject({ address: b.address, up: false })

    await b.start()
    await waitPeersUp(a, 1)
    expect(peerNamed(await statusOf(a), 'B')?.up).toBe(true)
  }, 40_000)
})
