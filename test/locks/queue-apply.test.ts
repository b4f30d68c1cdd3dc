// A file locked at A holds still while B keeps changing it; unlock applies B's updates in order.
import fs from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import type { LockResult, UnlockResult } from '../../src/protocol/index.js'
import { startCluster, waitConverged, waitFile } from '../helpers/index.js'
import { clientOf, ok, waitLock, waitUnlocked, planLockedAtA } from './lock-helpers.js'

const enc = (s: string) => new TextEncoder().encode(s)

describe('user locks: queue and apply', () => {
  it('queues B’s appends at A while locked, applies them in order on unlock, and B agrees', async () => {
    const [a, b] = await startCluster(2)
    await b.write('plan.txt', 'base\n')
    await waitFile([a], 'plan.txt', 'base\n')

    const alice = await clientOf(a, 'alice')
    const index = (await a.list()).findIndex((r) => r.name === 'plan.txt')
    const lock = await ok<LockResult>(alice.call('lock', { index, expect: 'plan.txt' }))
    expect(lock).toMatchObject({ name: 'plan.txt', owner: 'alice', server: 'A', queued: 0 })
    // B is told, so its listing shows the lock too.
    await waitLock(b, 'plan.txt', 'A')

    // v1 by another program at B, v2 through a client at B, v3 by a program again.
    await fs.appendFile(b.file('plan.txt'), 'v1\n')
    await waitLock(a, 'plan.txt', 'A', 1)
    const bob = await clientOf(b, 'bob')
    await ok(bob.append('plan.txt', enc('v2\n')))
    await waitLock(a, 'plan.txt', 'A', 2)
    await fs.appendFile(b.file('plan.txt'), 'v3\n')
    await waitLock(a, 'plan.txt', 'A', 3)
    await waitLock(b, 'plan.txt', 'A', 3) // B's listing shows the queue at A too

    expect(await fs.readFile(a.file('plan.txt'), 'utf8')).toBe('base\n')

    const done = await ok<UnlockResult>(alice.call('unlock', { name: 'plan.txt' }))
    expect(done).toMatchObject({ name: 'plan.txt', owner: 'alice', applied: 3, conflicts: 0 })
    expect(await fs.readFile(a.file('plan.txt'), 'utf8')).toBe('base\nv1\nv2\nv3\n')
    await waitUnlocked(b, 'plan.txt')
    const tree = await waitConverged([a, b])
    expect([...tree.keys()]).toEqual(['plan.txt'])

    // The change log tells the story, in order.
    const log = (
      await ok<{ entries: { op: string; name: string | null }[] }>(alice.log({ limit: 100 }))
    ).entries
      .filter((e) => e.name === 'plan.txt' && (e.op.startsWith('lock') || e.op === 'unlock'))
      .map((e) => e.op)
    expect(log).toEqual([
      'lock',
      'lock-queue',
      'lock-queue',
      'lock-queue',
      'lock-apply',
      'lock-apply',
      'lock-apply',
      'unlock',
    ])
  })

  it('queues a delete made at B and applies it on unlock', async () => {
    const [a, b] = await startCluster(2)
    await a.write('gone.txt', 'soon gone\n')
    await waitFile([b], 'gone.txt', 'soon gone\n')
    const alice = await clientOf(a, 'alice')
    await ok(alice.call('lock', { name: 'gone.txt' }))
    await waitLock(b, 'gone.txt', 'A')

    await fs.rm(b.file('gone.txt'))
    await waitLock(a, 'gone.txt', 'A', 1)
    expect(await fs.readFile(a.file('gone.txt'), 'utf8')).toBe('soon gone\n')

    const done = await ok<UnlockResult>(alice.call('unlock', { name: 'gone.txt' }))
    expect(done.applied).toBe(1)
    await waitFile([a, b], 'gone.txt', null)
  })

  it('makes one conflict copy for a line of queued updates that meets the owner’s edit', async () => {
    const { a, b, alice } = await planLockedAtA()
    await fs.appendFile(b.file('plan.txt'), 'v1\n')
    await waitLock(a, 'plan.txt', 'A', 1)
    await fs.appendFile(b.file('plan.txt'), 'v2\n')
    await waitLock(a, 'plan.txt', 'A', 2)
    await b.stop() // the owner's edit then meets B's line only in A's queue
    await ok(alice.append('plan.txt', enc('owner line\n')))

    const done = await ok<UnlockResult>(alice.call('unlock', { name: 'plan.txt' }))
    // v1 is carried by v2 (which descends from it): one update applied, one copy.
    expect(done).toMatchObject({ applied: 1, conflicts: 1 })
    const names = await fs.readdir(a.root)
    expect(names).toHaveLength(2)
    const copy = names.find((n) => n !== 'plan.txt') ?? ''
    expect(await fs.readFile(a.file('plan.txt'), 'utf8')).toBe('base\nowner line\n')
    expect(await fs.readFile(a.file(copy), 'utf8')).toBe('base\nv1\nv2\n')
  })
})
