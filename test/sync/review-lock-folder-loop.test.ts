// Review (fixed: the clash takes the drain's locks; a Held with nothing queued is set aside).
// Before: a locked file replaced by a folder at the lock's server. The lock ends with its file and
// its queue is applied (source.unlocks = the name). The queued update meets the folder: #take ->
// TypeClash.keepBesideFolder -> Applier.#busyLocked -> #locked(CLASH, …). CLASH has no `unlocks`
// and the name is still held while the queue drains, so #locked throws Held; #withRetries queues
// what is held — nothing, since `remote.name === peer.unlocks` — plans the same take again, and
// loops for ever: the lock never ends, the drain re-copies the queued content on every turn.
// (B is stopped once its update is queued, so that only A resolves the clash.)
import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { startCluster, waitFile, waitFor, type ClusterServer } from '../helpers/index.js'
import { clientOf, ok, waitLock } from '../locks/lock-helpers.js'

async function locksHere(server: ClusterServer) {
  return (await server.status()).locks.filter((l) => l.server === server.name)
}

describe('review: a locked file replaced by a folder where it is locked', () => {
  it('ends the lock; the queued update is kept as the conflict copy (the folder wins)', async () => {
    const [a, b] = await startCluster(2)
    await b.write('x', 'base\n')
    await waitFile([a], 'x', 'base\n')
    const alice = await clientOf(a, 'alice')
    await ok(alice.call('lock', { name: 'x' }))
    await waitLock(b, 'x', 'A')
    fs.appendFileSync(b.file('x'), 'from B\n')
    await waitLock(a, 'x', 'A', 1) // B's update queued at A, with its content
    await b.stop()

    // At A, a program replaces the locked file by a folder: the lock ends with its file.
    fs.rmSync(a.file('x'))
    fs.mkdirSync(a.file('x'))
    fs.writeFileSync(a.file('x/inner.txt'), 'inner\n')

    await waitFor(async () => (await locksHere(a)).length === 0, {
      timeoutMs: 30_000,
      what: 'the lock on x at A to end with its file',
    })
    const copy = await waitFor(
      () => fs.readdirSync(a.root).find((n) => n.startsWith('x.sync-conflict-')),
      { timeoutMs: 10_000, what: "B's queued version kept as a conflict copy at A" },
    )
    expect(fs.readFileSync(a.file(copy), 'utf8')).toBe('base\nfrom B\n')
    expect(fs.readFileSync(a.file('x/inner.txt'), 'utf8')).toBe('inner\n')
  }, 90_000)
})
