// Locks and their queues outlive the server process; a time-to-live ends a lock by itself; an
// update queued against an edit the owner made under the lock leaves a conflict copy at unlock.
import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import type { UnlockResult } from '../../src/protocol/index.js'
import { startCluster, waitConverged, waitFile, waitFor } from '../helpers/index.js'
import { clientOf, locksOn, ok, waitLock, waitUnlocked, planLockedAtA } from './lock-helpers.js'

const enc = (s: string) => new TextEncoder().encode(s)

describe('user locks: persistence and time-to-live', () => {
  it('keeps a lock and its queue through kill -9 and restart; unlock then applies the queue', async () => {
    const { a, b } = await planLockedAtA()
    await waitLock(b, 'plan.txt', 'A')
    await fs.appendFile(b.file('plan.txt'), 'v1\n')
    await waitLock(a, 'plan.txt', 'A', 1)
    await fs.appendFile(b.file('plan.txt'), 'v2\n')
    await waitLock(a, 'plan.txt', 'A', 2)

    // A content kept just before a crash, whose row was never written: swept at start.
    const queueDir = path.join(a.stateDir, 'queue')
    await fs.writeFile(path.join(queueDir, 'q-stray'), 'no row refers to me')
    await a.kill9()
    await a.restart()
    await waitFor(async () => !(await fs.readdir(queueDir)).includes('q-stray'))
    expect(await fs.readdir(queueDir)).toHaveLength(2) // the two queued updates' contents
    const [lock] = await locksOn(a, 'plan.txt')
    expect(lock).toMatchObject({ server: 'A', owner: 'alice', queued: 2 })
    expect(await fs.readFile(a.file('plan.txt'), 'utf8')).toBe('base\n')
    const carol = await clientOf(a, 'carol')
    expect((await carol.append('plan.txt', enc('carol\n'))).error?.code).toBe('ERR_LOCKED')
    expect((await carol.delete('plan.txt')).error?.code).toBe('ERR_LOCKED')

    const again = await clientOf(a, 'alice')
    const done = await ok<UnlockResult>(again.call('unlock', { name: 'plan.txt' }))
    expect(done).toMatchObject({ applied: 2, conflicts: 0 })
    expect(await fs.readFile(a.file('plan.txt'), 'utf8')).toBe('base\nv1\nv2\n')
    await waitConverged([a, b])
  })

  it('ends a lock with --ttl 2 by itself after about 2 s, and applies its queue', async () => {
    const [a, b] = await startCluster(2)
    await b.write('plan.txt', 'base\n')
    await waitFile([a], 'plan.txt', 'base\n')
    const alice = await clientOf(a, 'alice')
    const lockedAt = Date.now()
    await ok(alice.call('lock', { name: 'plan.txt', ttlSeconds: 2 }))
    await fs.appendFile(b.file('plan.txt'), 'v1\n')
    await waitLock(a, 'plan.txt', 'A', 1)
    await waitUnlocked(a, 'plan.txt')
    // Never early (a lower bound only: the machine may be slow, never fast).
    expect(Date.now() - lockedAt).toBeGreaterThanOrEqual(1_900)
    await waitFile([a], 'plan.txt', 'base\nv1\n')
    await waitUnlocked(b, 'plan.txt')
  })

  it('leaves a conflict copy when a queued update meets an edit the owner made under the lock', async () => {
    const { a, b, alice } = await planLockedAtA()
    await fs.appendFile(b.file('plan.txt'), 'from B\n')
    await waitLock(a, 'plan.txt', 'A', 1)
    // B goes away, so the owner's edit meets B's only in A's queue.
    await b.stop()
    await ok(alice.append('plan.txt', enc('owner line\n')))

    const done = await ok<UnlockResult>(alice.call('unlock', { name: 'plan.txt' }))
    expect(done).toMatchObject({ applied: 1, conflicts: 1 })
    const names = await fs.readdir(a.root)
    expect(names).toHaveLength(2)
    const copy = names.find((n) => n !== 'plan.txt') ?? ''
    // Newest wins (the owner's edit came last); B's version is kept beside it.
    expect(await fs.readFile(a.file('plan.txt'), 'utf8')).toBe('base\nowner line\n')
    expect(copy).toMatch(/^plan\.sync-conflict-\d{8}-\d{6}-B\.txt$/)
    expect(await fs.readFile(a.file(copy), 'utf8')).toBe('base\nfrom B\n')

    await b.start()
    await waitFor(async () => (await waitConverged([a, b])).size === 2, { timeoutMs: 15_000 })
  })
})
