// While a file is locked at A: other clients' writes are refused there with ERR_LOCKED naming the
// holder, reads work, the owner may write, and after unlock nothing is lost.
import fs from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import type { UnlockResult } from '../../src/protocol/index.js'
import { startCluster, waitConverged, waitFile, waitFor } from '../helpers/index.js'
import { clientOf, locksOn, ok, waitLock, waitUnlocked } from './lock-helpers.js'

const enc = (s: string) => new TextEncoder().encode(s)

describe('user locks: who may do what', () => {
  it('refuses other clients, lets the owner write, and keeps both edits after unlock', async () => {
    const [a, b] = await startCluster(2)
    await a.write('plan.txt', 'base\n')
    await waitFile([b], 'plan.txt', 'base\n')
    const alice = await clientOf(a, 'alice')
    const carol = await clientOf(a, 'carol')
    await ok(alice.call('lock', { name: 'plan.txt', ttlSeconds: 3600 }))

    const refused = [
      await carol.write('plan.txt', enc('carol was here\n')),
      await carol.append('plan.txt', enc('carol was here\n')),
      await carol.upload('plan.txt', enc('carol was here\n')),
      await carol.rename('plan.txt', 'carol.txt'),
      await carol.delete('plan.txt'),
      await carol.call('lock', { name: 'plan.txt' }),
    ]
    for (const reply of refused) {
      expect(reply.error?.code).toBe('ERR_LOCKED')
      expect(reply.error?.message).toContain('alice') // names the holder
    }
    const notOwner = await carol.call('unlock', { name: 'plan.txt' })
    expect(notOwner.error?.code).toBe('ERR_NOT_OWNER')
    expect(notOwner.error?.message).toContain('alice')
    // Reads work.
    expect((await carol.stat('plan.txt')).ok).toBe(true)
    expect(Buffer.from((await carol.download('plan.txt')).body ?? []).toString()).toBe('base\n')
    // The owner may not rename it away from under the lock, but may write.
    expect((await alice.rename('plan.txt', 'moved.txt')).error?.code).toBe('ERR_LOCKED')
    await ok(alice.append('plan.txt', enc('owner line\n')))

    // Meanwhile B changes it too: queued at A. (The owner's edit also reaches B, which may meet
    // it as a conflict first and send its resolution: then more than one update waits.)
    await fs.appendFile(b.file('plan.txt'), 'from B\n')
    await waitLock(a, 'plan.txt', 'A', 1)
    expect(await fs.readFile(a.file('plan.txt'), 'utf8')).toBe('base\nowner line\n')

    await ok<UnlockResult>(alice.call('unlock', { name: 'plan.txt' }))
    // How many it applied need not be ≥ 1: when B met the owner's edit as a conflict before its
    // own edit was queued here, what waited was B's resolution, whose plan.txt is A's own version
    // (already here: nothing to apply), and B's edit arrives as the conflict copy. Both edits
    // survive either way: that is checked below.
    await waitUnlocked(a, 'plan.txt')
    const tree = await waitConverged([a, b])
    // Both edits survive: in the file, or one of them in a conflict copy.
    const texts = await Promise.all([...tree.keys()].map((n) => fs.readFile(a.file(n), 'utf8')))
    expect(texts.some((t) => t.includes('owner line'))).toBe(true)
    expect(texts.some((t) => t.includes('from B'))).toBe(true)
    expect(
      [...tree.keys()].every((n) => n === 'plan.txt' || n.startsWith('plan.sync-conflict-')),
    ).toBe(true)
  })

  it('refuses a lock on a missing name, a stale index, an unlock of an unlocked file; a deleted file ends its lock', async () => {
    const [a, b] = await startCluster(2)
    await a.write('b.txt', 'b\n')
    await waitFile([b], 'b.txt', 'b\n')
    const alice = await clientOf(a, 'alice')

    expect((await alice.call('lock', { name: 'nope.txt' })).error?.code).toBe('ERR_NOT_FOUND')
    await a.write('folder/inside.txt', 'x\n')
    expect((await alice.call('lock', { name: 'folder' })).error?.code).toBe('ERR_IS_DIRECTORY')
    await fs.rm(a.file('folder'), { recursive: true })
    expect((await alice.call('unlock', { name: 'b.txt' })).error?.code).toBe('ERR_NOT_FOUND')
    expect((await alice.call('lock', { index: 7 })).error?.code).toBe('ERR_NOT_FOUND')
    // The client saw b.txt at index 0; a.txt now sorts before it.
    await a.write('a.txt', 'a\n')
    await waitFor(async () => (await a.list()).length === 2)
    const stale = await alice.call('lock', { index: 0, expect: 'b.txt' })
    expect(stale.error?.code).toBe('ERR_LISTING_CHANGED')
    expect(await locksOn(a, 'a.txt')).toEqual([])

    await ok(alice.call('lock', { index: 1, expect: 'b.txt' }))
    await waitLock(b, 'b.txt', 'A')
    // Held at A: a lock on it at B is refused, naming who holds it where.
    const bob = await clientOf(b, 'bob')
    const elsewhere = await bob.call('lock', { name: 'b.txt' })
    expect(elsewhere.error?.code).toBe('ERR_LOCKED')
    expect(elsewhere.error?.message).toContain('alice')
    await ok(alice.delete('b.txt'))
    await waitUnlocked(a, 'b.txt')
    await waitUnlocked(b, 'b.txt')
    await waitFile([a, b], 'b.txt', null)
  })
})
