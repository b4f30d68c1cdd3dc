// Review of issue 14's group commit (sync/group-commit.ts) with the real lock table
// (locks/lock-manager.ts, as the main thread runs it for the sync worker: write locks, 2 min) on
// real temp files: one name of a group whose write lock is held a while by a client (an append
// to a big file copies it under that lock) must not keep the rest of the group from the disk, nor
// a client from reading them. The lock table takes a request's names in sorted order and holds
// each while it waits for the next: the group holds 'a.txt' while it waits for 'm.txt', so a
// client's read of 'a.txt' waits (and fails at its own bound) and 'a.txt' is not stored, although
// nothing is in its way. Before group commit each take locked its own name alone.
// Fixed: each publication asks for its own name's lock; the granted ones form the group.
import { describe, expect, it } from 'vitest'
import { openIndexDb } from '../src/server/index/database.js'
import { FileIndex } from '../src/server/index/file-index.js'
import { LockManager } from '../src/server/locks/lock-manager.js'
import { GroupCommit } from '../src/server/sync/group-commit.js'
import { tempDir } from './helpers/index.js'
import { sealedPublication as sealed } from './helpers/sealed-publication.js'

const SYNC_LOCK_TIMEOUT_MS = 120_000 // sync/sync-host.ts
const CLIENT_WAIT_MS = 1_000 // a client's bound (10 s in config.ts), shorter for the test

describe('a group commit waiting for one name (review of issue 14)', () => {
  it('neither holds the others from a client nor keeps them from the disk', async () => {
    const root = tempDir('tandem-review-i14-group-')
    const db = openIndexDb(tempDir('tandem-review-i14-group-state-'))
    const index = new FileIndex(db)
    const locks = new LockManager()
    const commit = new GroupCommit({
      index,
      lock: (names) => locks.acquire(names, 'write', SYNC_LOCK_TIMEOUT_MS),
    })
    // A client's long write on m.txt (an append copying a big file under its write lock).
    const releaseClient = await locks.acquire(['m.txt'], 'write', 10_000)
    const a = await sealed(root, 'a.txt', 'a')
    const m = await sealed(root, 'm.txt', 'm')
    const publishedA = commit.publish(a)
    const publishedM = commit.publish(m)
    try {
      // The group's request has got as far as it can (a.txt, then waiting for m.txt).
      const deadline = Date.now() + 5_000
      while (!locks.snapshot().some((l) => l.name === 'm.txt' && l.waiting > 0)) {
        if (Date.now() > deadline) throw new Error('the group never asked for m.txt')
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      // A client reads a.txt, which nothing but the group's wait is in the way of.
      const releaseRead = await locks.acquire(['a.txt'], 'read', CLIENT_WAIT_MS)
      releaseRead()
      // And a.txt is stored while m.txt still waits.
      const stored = await Promise.race([
        publishedA,
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), CLIENT_WAIT_MS)),
      ])
      expect(stored?.name).toBe('a.txt')
    } finally {
      releaseClient()
      await Promise.allSettled([publishedA, publishedM])
      for (const p of [a, m]) await p.temp.discard()
      db.close()
    }
  })
})
