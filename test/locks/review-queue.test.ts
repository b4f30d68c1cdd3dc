// Review of the queue at a locked server (issue 4): what gets queued, and what the owner's own
// edits do to the peers while the lock holds. Each test names the finding it shows.
import fs from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import type { UnlockResult } from '../../src/protocol/index.js'
import {
  startCluster,
  waitConverged,
  waitFile,
  waitFor,
  type ClusterServer,
} from '../helpers/index.js'
import { clientOf, locksOn, ok, waitLock, waitUnlocked, planLockedAtA } from './lock-helpers.js'

const enc = (s: string) => new TextEncoder().encode(s)

/** The conflict copies of `stem` in `server`'s data directory. */
async function copiesOf(server: ClusterServer, stem: string): Promise<string[]> {
  return (await fs.readdir(server.root)).filter((n) => n.startsWith(`${stem}.sync-conflict-`))
}

/**
 * A barrier on the stream from `from` to `to`: a new file made at `from` has reached `to`. A peer
 * sends its changes in sequence order and `to` applies (or queues) them batch after batch, so
 * whatever `from` announced before has been dealt with at `to` by then.
 */
async function barrier(from: ClusterServer, to: ClusterServer, tag: string): Promise<void> {
  const name = `barrier-${tag}.txt`
  await from.write(name, tag)
  await waitFile([to], name, tag)
}

describe('review: what a locked server queues', () => {
  it('does not queue the echo of the owner’s own edit (nothing changed at B)', async () => {
    const [a, b] = await startCluster(2)
    await a.write('plan.txt', 'base\n')
    await waitFile([b], 'plan.txt', 'base\n')
    const alice = await clientOf(a, 'alice')
    await ok(alice.call('lock', { name: 'plan.txt' }))
    await waitLock(b, 'plan.txt', 'A')

    // Only the owner edits; B merely takes the edit, as mirroring does.
    await ok(alice.append('plan.txt', enc('owner line\n')))
    await waitFile([b], 'plan.txt', 'base\nowner line\n')
    await barrier(b, a, 'echo')

    // Nothing from B waits: B made no change of its own.
    const [lock] = await locksOn(a, 'plan.txt')
    expect(lock?.queued).toBe(0)
    const done = await ok<UnlockResult>(alice.call('unlock', { name: 'plan.txt' }))
    expect(done).toMatchObject({ applied: 0, conflicts: 0 })
  })

  it('counts one update once in a cluster of three (C relays what it took from B)', async () => {
    const [a, b, c] = await startCluster(3)
    await b.write('plan.txt', 'base\n')
    await waitFile([a, c], 'plan.txt', 'base\n')
    const alice = await clientOf(a, 'alice')
    await ok(alice.call('lock', { name: 'plan.txt' }))
    await waitLock(b, 'plan.txt', 'A')
    await waitLock(c, 'plan.txt', 'A')

    await fs.appendFile(b.file('plan.txt'), 'v1\n')
    await waitFile([c], 'plan.txt', 'base\nv1\n')
    await barrier(b, a, 'from-b')
    await barrier(c, a, 'from-c')

    // One change was made (at B): one update waits.
    const [lock] = await locksOn(a, 'plan.txt')
    expect(lock?.queued).toBe(1)
    const done = await ok<UnlockResult>(alice.call('unlock', { name: 'plan.txt' }))
    expect(done.applied).toBe(1)
    expect(await fs.readFile(a.file('plan.txt'), 'utf8')).toBe('base\nv1\n')
  })

  it('does not turn the owner’s own earlier saves into conflict copies at B', async () => {
    const { a, b, alice } = await planLockedAtA()
    await waitLock(b, 'plan.txt', 'A')

    // B changes the file once (queued at A)…
    await fs.appendFile(b.file('plan.txt'), 'from B\n')
    await waitLock(a, 'plan.txt', 'A', 1)
    // …and the owner saves three times under the lock, each save reaching B.
    let text = 'base\n'
    for (const line of ['o1\n', 'o2\n', 'o3\n']) {
      await ok(alice.append('plan.txt', enc(line)))
      text += line
      await waitFile([b], 'plan.txt', text)
    }

    // One real conflict (B's line against the owner's work): one copy, holding B's line. The
    // owner's intermediate saves o1 and o2 conflicted with nobody.
    const atB = await copiesOf(b, 'plan')
    const texts = await Promise.all(atB.map((n) => fs.readFile(b.file(n), 'utf8')))
    expect(texts).toEqual(['base\nfrom B\n'])

    await ok<UnlockResult>(alice.call('unlock', { name: 'plan.txt' }))
    await waitUnlocked(b, 'plan.txt')
    const tree = await waitConverged([a, b])
    expect([...tree.keys()].filter((n) => n.startsWith('plan.sync-conflict-'))).toHaveLength(1)
  })
})

describe('review: peers’ view of a lock', () => {
  it('stops showing a peer’s lock once its time-to-live has passed (the peer being down)', async () => {
    const [a, b] = await startCluster(2)
    await a.write('plan.txt', 'base\n')
    await waitFile([b], 'plan.txt', 'base\n')
    const alice = await clientOf(a, 'alice')
    await ok(alice.call('lock', { name: 'plan.txt', ttlSeconds: 2 }))
    const shown = await waitLock(b, 'plan.txt', 'A')
    expect(shown.expiresAt).not.toBeNull()
    await a.kill9()

    // A's lock ends by itself 2 s after it was taken; B must not go on showing it as held.
    await waitFor(async () => (await locksOn(b, 'plan.txt')).length === 0, {
      timeoutMs: 8_000,
      what: 'B to stop showing the expired lock at A',
    })
    const status = await b.status()
    expect(status.locks.filter((l) => l.name === 'plan.txt')).toEqual([])
  })
})
