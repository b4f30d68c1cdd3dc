// A transfer in flight shows in the listing: A has a new version of a file that B holds in an
// older one, and until B has it, B's listing marks the copies as differing, each server with
// its own; once B has applied it, the mark is gone on both sides.
import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  sha256Of,
  startCluster,
  waitFile,
  waitFor,
  waitTree,
  writeRandomFile,
} from '../helpers/index.js'

const MiB = 1024 * 1024

describe('copies that differ during a transfer', () => {
  it('B’s listing marks a file while A’s newer version is on its way, then not', async () => {
    const [a, b] = await startCluster(2)
    await a.write('big.bin', 'v1\n')
    await waitFile([b], 'big.bin', 'v1\n')
    // A large new version placed on A at once: B hears of it well before it has fetched it.
    const staging = path.join(path.dirname(a.root), 'staging.bin')
    const bigSha = await writeRandomFile(staging, 128 * MiB)
    await fs.rename(staging, a.file('big.bin'))

    const inFlight = await waitFor(
      async () => {
        const row = (await b.list()).find((r) => r.name === 'big.bin')
        return row?.differs === true && row
      },
      { timeoutMs: 10_000, intervalMs: 10, what: 'B’s listing to mark big.bin as differing' },
    )
    expect(inFlight.servers).toEqual(['A', 'B'])
    expect(inFlight.copies).toEqual([
      { server: 'A', size: 128 * MiB, mtime: expect.any(Number), sha256: bigSha },
      { server: 'B', size: 3, mtime: expect.any(Number), sha256: sha256Of('v1\n') },
    ])

    await waitTree([b], new Map([['big.bin', bigSha]]), 30_000)
    for (const server of [a, b])
      await waitFor(
        async () => (await server.list()).find((r) => r.name === 'big.bin')?.differs === false,
        { what: `${server.name}’s listing to show one version of big.bin` },
      )
  }, 60_000)
})
