// Review of user locks at their edges (issue 4): what may be locked, a lock taken while a peer's
// delete of the file waits for the same write lock, a queue that cannot be applied, and a peer's
// rename of a locked file or onto a locked name.
import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import type { StatusResult, UnlockResult } from '../../src/protocol/index.js'
import {
  startCluster,
  waitConverged,
  waitFile,
  waitFor,
  type ClusterServer,
  type Reply,
} from '../helpers/index.js'
import { clientOf, locksOn, ok, waitLock, waitUnlocked, planLockedAtA } from './lock-helpers.js'

const enc = (s: string) => new TextEncoder().encode(s)

/** The per-path lock on `name` as `server`'s status shows it (operations in progress). */
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

/** Fail at once if `reply` has settled: the window this test needs has closed. */
function stillPending(settled: { done: boolean }, what: string): void {
  if (settled.done) throw new Error(`${what} finished too early: the race window was missed`)
}

function track<T>(promise: Promise<T>): { promise: Promise<T>; done: boolean } {
  const t = { promise, done: false }
  void promise.finally(() => (t.done = true))
  return t
}

describe('review: what may be locked', () => {
  it('refuses a lock on a folder (only files are locked)', async () => {
    const [a] = await startCluster(2)
    await a.write('reports/q1.txt', 'q1\n')
    await waitFor(async () => (await a.list()).some((r) => r.name === 'reports/q1.txt'))
    const alice = await clientOf(a, 'alice')
    const reply = await alice.call('lock', { name: 'reports' })
    expect(reply.ok).toBe(false)
    expect((await a.status()).locks).toEqual([])
  })
})

describe('review: a lock racing a peer’s delete', () => {
  it('does not lock a file that a peer’s delete removed while the lock waited for it', async () => {
    const [a, b] = await startCluster(2)
    await a.write('a.txt', 'small\n')
    await a.write('big.bin', 'start\n')
    await waitFile([b], 'a.txt', 'small\n')
    await waitFile([b], 'big.bin', 'start\n')
    const alice = await clientOf(a, 'alice')
    const bob = await clientOf(a, 'bob')
    const carol = await clientOf(a, 'carol')

    // bob's append of 512 MiB holds big.bin's write lock while it copies (seconds).
    const appending = track(bob.append('big.bin', zeros(512 << 20)))
    await waitFor(async () => (await pathLock(a, 'big.bin'))?.writers === 1, {
      timeoutMs: 30_000,
      what: "bob's append to hold big.bin",
    })
    // carol's rename a.txt → big.bin takes a.txt (sorted first), then waits for big.bin.
    const renaming = track(carol.rename('a.txt', 'big.bin'))
    await waitFor(async () => (await pathLock(a, 'a.txt'))?.writers === 1, {
      what: "carol's rename to hold a.txt",
    })
    stillPending(appending, "bob's append")
    // B deletes a.txt: A's applier waits for a.txt's write lock, behind carol.
    await fs.rm(b.file('a.txt'))
    await waitFor(async () => ((await pathLock(a, 'a.txt'))?.waiting ?? 0) >= 1, {
      what: "A's applier to wait for a.txt",
    })
    stillPending(appending, "bob's append")
    // alice locks a.txt now: it exists, so the lock waits for the write lock too, after the delete.
    const locking = track(alice.call('lock', { name: 'a.txt' }))
    await waitFor(async () => ((await pathLock(a, 'a.txt'))?.waiting ?? 0) >= 2, {
      what: "alice's lock to wait for a.txt",
    })
    stillPending(appending, "bob's append")

    expect((await appending.promise).ok).toBe(true)
    expect((await renaming.promise).error?.code).toBe('ERR_EXISTS')
    const locked: Reply = await locking.promise
    await waitFile([a], 'a.txt', null)
    // By the time the lock was taken the file was gone: refused as for any missing name (or, if
    // granted, ended with its file at once).
    if (locked.ok) await waitUnlocked(a, 'a.txt')
    else expect(locked.error?.code).toBe('ERR_NOT_FOUND')
    const status = await a.status()
    expect.soft(status.locks.filter((l) => l.name === 'a.txt')).toEqual([])
    // What a lock left on the vanished name does: when B makes a.txt again, A must take it (not
    // queue it behind a lock on a file that no longer exists).
    // Waited for itself: a later file of B's is no barrier, as the pulls of one batch are written
    // concurrently (barrier.txt once landed first). Queued behind a lock, it would never come.
    await b.write('a.txt', 'again\n')
    await waitFile([a], 'a.txt', 'again\n', 15_000)
    expect((await a.status()).locks.filter((l) => l.name === 'a.txt')).toEqual([])
  })
})

describe('review: a queue that cannot be applied', () => {
  it('lets --force release a lock whose queued content is gone', async () => {
    const { a, b } = await planLockedAtA()
    await waitLock(b, 'plan.txt', 'A')
    await fs.appendFile(b.file('plan.txt'), 'v1\n')
    await waitLock(a, 'plan.txt', 'A', 1)

    // The kept content disappears (a disk error, an operator cleaning the state directory).
    const queueDir = path.join(a.stateDir, 'queue')
    for (const f of await fs.readdir(queueDir)) await fs.rm(path.join(queueDir, f))

    const admin = await clientOf(a, 'admin')
    const forced = await admin.call('unlock', { name: 'plan.txt', force: true })
    expect(forced.error?.code).toBeUndefined()
    await waitUnlocked(a, 'plan.txt')
    // And nothing is lost: B still has v1, and A comes to agree with it.
    await waitFile([a, b], 'plan.txt', 'base\nv1\n', 10_000)
  })
})

describe('review: renames and locks', () => {
  it('a peer renames a locked file: after unlock nothing is lost and the servers agree', async () => {
    const { a, b, alice } = await planLockedAtA()
    await waitLock(b, 'plan.txt', 'A')
    await fs.appendFile(b.file('plan.txt'), 'v1\n')
    await waitLock(a, 'plan.txt', 'A', 1)
    await fs.rename(b.file('plan.txt'), b.file('moved.txt'))
    await waitFile([a], 'moved.txt', 'base\nv1\n')
    // Held still at A meanwhile.
    expect(await fs.readFile(a.file('plan.txt'), 'utf8')).toBe('base\n')

    const done = await ok<UnlockResult>(alice.call('unlock', { name: 'plan.txt' }))
    expect(done.conflicts).toBe(0)
    const tree = await waitConverged([a, b])
    expect([...tree.keys()]).toEqual(['moved.txt'])
  })

  it('a peer renames another file onto a locked name: queued, applied on unlock', async () => {
    const [a, b] = await startCluster(2)
    await b.write('plan.txt', 'old plan\n')
    await b.write('draft.txt', 'new plan\n')
    await waitFile([a], 'plan.txt', 'old plan\n')
    await waitFile([a], 'draft.txt', 'new plan\n')
    const alice = await clientOf(a, 'alice')
    await ok(alice.call('lock', { name: 'plan.txt' }))
    await waitLock(b, 'plan.txt', 'A')
    await fs.rename(b.file('draft.txt'), b.file('plan.txt'))
    await waitLock(a, 'plan.txt', 'A', 1)
    expect(await fs.readFile(a.file('plan.txt'), 'utf8')).toBe('old plan\n')

    await ok<UnlockResult>(alice.call('unlock', { name: 'plan.txt' }))
    await waitFile([a, b], 'plan.txt', 'new plan\n')
    const tree = await waitConverged([a, b])
    expect([...tree.keys()]).toEqual(['plan.txt'])
  })

  it('the owner’s edit meets a peer’s rename of the locked file: both survive', async () => {
    const { a, b, alice } = await planLockedAtA()
    await waitLock(b, 'plan.txt', 'A')
    await b.stop()
    await ok(alice.append('plan.txt', enc('owner line\n')))
    await fs.rename(b.file('plan.txt'), b.file('moved.txt'))
    await b.start()
    await waitFile([a], 'moved.txt', 'base\n', 15_000)
    // Either B's delete waits in A's queue, or B has already taken the owner's edit back (a
    // change beats a delete) and its merged version passed straight through at A (same content).
    await waitFor(
      async () =>
        ((await locksOn(a, 'plan.txt'))[0]?.queued ?? 0) >= 1 ||
        (await fs.readFile(b.file('plan.txt'), 'utf8').catch(() => '')) === 'base\nowner line\n',
      { what: "the rename's delete queued at A, or the owner's edit back at B" },
    )

    await ok<UnlockResult>(alice.call('unlock', { name: 'plan.txt' }))
    const tree = await waitConverged([a, b], { timeoutMs: 15_000 })
    expect([...tree.keys()].sort()).toEqual(['moved.txt', 'plan.txt'])
    expect(await fs.readFile(a.file('plan.txt'), 'utf8')).toBe('base\nowner line\n')
  })
})
