// Review of user locks (issue 4): a lock or unlock request that waits (for a write in progress, or
// while a long queue is applied) is a request in progress, not an idle connection.
import { describe, expect, it } from 'vitest'
import type { StatusResult } from '../../src/protocol/index.js'
import { startCluster, waitFor, type ClusterServer } from '../helpers/index.js'
import { clientOf } from './lock-helpers.js'

const IDLE_MS = 300

async function pathLock(
  server: ClusterServer,
  name: string,
): Promise<StatusResult['pathLocks'][number] | undefined> {
  return (await server.status()).pathLocks.find((l) => l.name === name)
}

/** `size` bytes of zeros, 8 MiB at a time (one buffer, never changed). */
async function* zeros(size: number): AsyncIterable<Uint8Array> {
  const chunk = new Uint8Array(8 << 20)
  for (let sent = 0; sent < size; sent += chunk.length) yield chunk
}

describe('review: a waiting lock request is not idle', () => {
  it('answers a lock that waited longer than the idle timeout for a write in progress', async () => {
    const [a] = (await startCluster(1, {
      extraArgs: ['--idle-timeout-ms', String(IDLE_MS)],
    })) as [ClusterServer]
    await a.write('big.bin', 'start\n')
    await waitFor(async () => (await a.list()).some((r) => r.name === 'big.bin'))

    // bob's append of 256 MiB holds big.bin's write lock while it copies (a second or more here).
    const bob = await clientOf(a, 'bob')
    const appending = bob.append('big.bin', zeros(512 << 20))
    await waitFor(async () => (await pathLock(a, 'big.bin'))?.writers === 1, {
      timeoutMs: 30_000,
      what: "bob's append to hold big.bin",
    })
    const carol = await clientOf(a, 'carol')
    const started = Date.now()
    const locked = await carol.call('lock', { name: 'big.bin' })
    const waited = Date.now() - started
    expect((await appending).ok).toBe(true)

    // The lock is taken in the end; carol must be told so, not that her connection was idle.
    const held = (await a.status()).locks.filter((l) => l.name === 'big.bin')
    expect(held.map((l) => l.owner)).toEqual(['carol'])
    expect(waited).toBeGreaterThan(IDLE_MS)
    expect(locked.error?.code).toBeUndefined()
  })
})
