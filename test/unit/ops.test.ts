// Every operation of src/server/ops/ through an OpsContext, in-process: a real file store, lock
// manager and change log in a temp dir, the sync worker's index as in-memory data
// (test/helpers/ops-harness.ts). No server, no sockets, no threads.
import { readdirSync } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import type { UserLock } from '../../src/protocol/index.js'
import type { Timers } from '../../src/server/locks/lock-manager.js'
import { contentHash } from '../../src/server/ops/content-hash.js'
import { remove, rename } from '../../src/server/ops/files.js'
import { list, stat } from '../../src/server/ops/listing.js'
import { hashOf, openFile, readEnded } from '../../src/server/ops/read.js'
import { lock, lockStatus, unlock } from '../../src/server/ops/user-locks.js'
import { createOpsHarness, runBody, sha256Hex } from '../helpers/ops-harness.js'

/** The error code a promise rejects with, or 'ok'. */
async function outcome(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'ok',
    (err: unknown) => (err as { code?: string }).code ?? String(err),
  )
}

/**
 * A body in two parts; between them, once the receiver has made its checks and opened its temp
 * file (so the early checks are behind it), `meanwhile` runs.
 */
async function* twoParts(root: string, parts: [string, string], meanwhile: () => void) {
  yield Buffer.from(parts[0])
  const deadline = Date.now() + 2_000
  while (!readdirSync(root).some((n) => n.startsWith('.tandem-tmp-'))) {
    if (Date.now() > deadline) throw new Error('the receiver never opened its temp file')
    await new Promise((resolve) => setImmediate(resolve))
  }
  meanwhile()
  yield Buffer.from(parts[1])
}

describe('list and stat', () => {
  it('merges the disk, the peers’ holdings and the user locks, sorted, with indexes', async () => {
    const h = createOpsHarness()
    h.writeFile('b.txt', 'bee')
    h.writeFile('dir/c.txt', 'sea')
    h.peerHolds('C', 'b.txt', 3)
    h.peerHolds('B', 'b.txt', 3)
    h.peerHolds('B', 'a-remote.txt', 42, 1_700_000_000_000.4)
    const mine = h.holdUserLock('b.txt', 'bob')
    const theirs = h.holdUserLock('a-remote.txt', 'carol', 'B')
    const { files } = await list(h.context())
    expect(files.map((f) => [f.index, f.name, f.servers])).toEqual([
      [0, 'a-remote.txt', ['B']],
      [1, 'b.txt', ['A', 'B', 'C']],
      [2, 'dir/c.txt', ['A']],
    ])
    expect(files[0]).toMatchObject({ size: 42, mtime: 1_700_000_000_000, locked: true })
    expect(files[0]!.locks).toEqual([theirs])
    expect(files[1]).toMatchObject({ size: 3, locked: true, locks: [mine] })
    expect(files[2]).toMatchObject({ size: 3, locked: false, locks: [] })
  })

  it('a lock on a name nobody holds is not listed', async () => {
    const h = createOpsHarness()
    h.holdUserLock('ghost.txt', 'bob', 'B')
    expect((await list(h.context())).files).toEqual([])
  })

  it('stat gives the row as ls shows it; a missing or peer-only file is ERR_NOT_FOUND', async () => {
    const h = createOpsHarness()
    h.writeFile('a.txt', 'hello')
    h.writeFile('z.txt', 'zed')
    h.peerHolds('B', 'm.txt')
    const ctx = h.context()
    expect(await stat(ctx, { name: 'z.txt' })).toMatchObject({
      index: 2,
      name: 'z.txt',
      size: 3,
      servers: ['A'],
    })
    expect(await outcome(stat(ctx, { name: 'nope.txt' }))).toBe('ERR_NOT_FOUND')
    expect(await outcome(stat(ctx, { name: 'm.txt' }))).toBe('ERR_NOT_FOUND')
    expect(await outcome(stat(ctx, { name: '../etc/passwd' }))).toBe('ERR_BAD_PATH')
    // A bad name is refused before any lock is taken.
    expect(h.lockRequests.map((r) => [r.names, r.mode])).toEqual([
      [['z.txt'], 'read'],
      [['nope.txt'], 'read'],
      [['m.txt'], 'read'],
    ])
  })
})

describe('bodies: upload, create, write, append', () => {
  it('upload makes and replaces a file, records it, and tells its hash', async () => {
    const h = createOpsHarness()
    const ctx = h.context('alice')
    const first = await runBody(ctx, { op: 'upload', name: 'dir/new.txt' }, 'first version\n')
    expect(first.created).toBe(true)
    expect(first.result).toMatchObject({
      name: 'dir/new.txt',
      size: 14,
      sha256: sha256Hex('first version\n'),
    })
    expect(h.readFile('dir/new.txt').toString()).toBe('first version\n')
    const big = Buffer.alloc(700_000, 7)
    const second = await runBody(
      ctx,
      { op: 'upload', name: 'dir/new.txt', size: big.length, mtime: 1_600_000_000_000 },
      big,
      { chunkSize: 65_536 },
    )
    expect(second.created).toBe(false)
    expect(second.result).toMatchObject({ size: big.length, mtime: 1_600_000_000_000 })
    expect(h.readFile('dir/new.txt').equals(big)).toBe(true)
    expect(h.publications.map((p) => [p.name, p.sha256])).toEqual([
      ['dir/new.txt', sha256Hex('first version\n')],
      ['dir/new.txt', sha256Hex(big)],
    ])
    expect(h.logEntries().map((e) => [e.op, e.name, e.client, e.size, e.server])).toEqual([
      ['upload', 'dir/new.txt', 'alice', 14, 'A'],
      ['upload', 'dir/new.txt', 'alice', big.length, 'A'],
    ])
    expect(h.locks.size).toBe(0)
  })

  it('tells the published hash before the rename, while the write lock is held', async () => {
    // The sync worker's scanner waits out a writer's lock before reading a big file: the notice
    // must be in by then. And before the rename: its watcher event then finds the notice.
    const h = createOpsHarness()
    const ctx = h.context()
    const seen: { op: string; locked: boolean; onDisk: boolean }[] = []
    for (const op of ['upload', 'write', 'create'] as const) {
      const name = `${op}.txt`
      if (op === 'write') h.writeFile(name, 'old')
      const told = {
        ...ctx,
        published: (n: string, sha256: string, identity: Parameters<typeof ctx.published>[2]) => {
          const lock = h.locks.snapshot().find((l) => l.name === n)
          seen.push({
            op,
            locked: (lock?.writers ?? 0) > 0,
            onDisk: h.exists(n) && h.readFile(n).toString() === op,
          })
          ctx.published(n, sha256, identity)
        },
      }
      await runBody(told, { op, name }, op)
    }
    expect(seen).toEqual([
      { op: 'upload', locked: true, onDisk: false },
      { op: 'write', locked: true, onDisk: false },
      { op: 'create', locked: true, onDisk: false },
    ])
    expect(h.publications.map((p) => p.name)).toEqual(['upload.txt', 'write.txt', 'create.txt'])
  })

  it('a body whose SHA-256 or size does not match is ERR_INTEGRITY and changes nothing', async () => {
    const h = createOpsHarness()
    h.writeFile('f.txt', 'old')
    const ctx = h.context()
    const wrong = Buffer.alloc(32, 1)
    expect(
      await outcome(runBody(ctx, { op: 'upload', name: 'f.txt' }, 'new', { sha256: wrong })),
    ).toBe('ERR_INTEGRITY')
    expect(await outcome(runBody(ctx, { op: 'upload', name: 'f.txt', size: 99 }, 'new'))).toBe(
      'ERR_INTEGRITY',
    )
    expect(h.readFile('f.txt').toString()).toBe('old')
    // No SHA-256 given (null): the body is taken as it came.
    await runBody(ctx, { op: 'upload', name: 'f.txt' }, 'new', { sha256: null })
    expect(h.readFile('f.txt').toString()).toBe('new')
    expect(h.logEntries().map((e) => e.op)).toEqual(['upload'])
  })

  it('create is exclusive: ERR_EXISTS leaves the file as it was', async () => {
    const h = createOpsHarness()
    const ctx = h.context()
    const made = await runBody(ctx, { op: 'create', name: 'c.txt' }, 'made')
    expect(made.created).toBe(true)
    expect(await outcome(runBody(ctx, { op: 'create', name: 'c.txt' }, 'again'))).toBe('ERR_EXISTS')
    expect(h.readFile('c.txt').toString()).toBe('made')
    expect(h.logEntries().map((e) => [e.op, e.name])).toEqual([['create', 'c.txt']])
  })

  it('write replaces an existing file; a missing one is ERR_NOT_FOUND', async () => {
    const h = createOpsHarness()
    h.writeFile('w.txt', 'before')
    const ctx = h.context()
    const written = await runBody(ctx, { op: 'write', name: 'w.txt' }, 'after')
    expect(written).toMatchObject({
      created: false,
      result: { size: 5, sha256: sha256Hex('after') },
    })
    expect(h.readFile('w.txt').toString()).toBe('after')
    expect(await outcome(runBody(ctx, { op: 'write', name: 'none.txt' }, 'x'))).toBe(
      'ERR_NOT_FOUND',
    )
    expect(h.exists('none.txt')).toBe(false)
  })

  it('append adds to an existing file; a missing one is ERR_NOT_FOUND', async () => {
    const h = createOpsHarness()
    h.writeFile('log.txt', 'one\n')
    const ctx = h.context()
    const appended = await runBody(ctx, { op: 'append', name: 'log.txt' }, 'two\n')
    expect(appended.result).toMatchObject({ name: 'log.txt', size: 8 })
    // The result's hash is the body's (what the client sent), not the whole file's.
    expect(appended.result.sha256).toBe(sha256Hex('two\n'))
    expect(h.readFile('log.txt').toString()).toBe('one\ntwo\n')
    // Append publishes no whole-content hash.
    expect(h.publications).toEqual([])
    expect(await outcome(runBody(ctx, { op: 'append', name: 'no.txt' }, 'x'))).toBe('ERR_NOT_FOUND')
    expect(h.logEntries().map((e) => [e.op, e.size])).toEqual([['append', 4]])
  })

  it('another client’s user lock refuses upload, write and append (ERR_LOCKED); its owner writes', async () => {
    const h = createOpsHarness()
    h.writeFile('held.txt', 'held')
    h.holdUserLock('held.txt', 'bob')
    const alice = h.context('alice')
    for (const op of ['upload', 'write', 'append'] as const)
      expect(await outcome(runBody(alice, { op, name: 'held.txt' }, 'alice was here'))).toBe(
        'ERR_LOCKED',
      )
    expect(h.readFile('held.txt').toString()).toBe('held')
    await runBody(h.context('bob'), { op: 'append', name: 'held.txt' }, '+bob')
    expect(h.readFile('held.txt').toString()).toBe('held+bob')
    expect(h.logEntries().map((e) => [e.op, e.client])).toEqual([['append', 'bob']])
  })

  it('a user lock taken while the body arrives refuses the commit under the write lock', async () => {
    const h = createOpsHarness()
    h.writeFile('race.txt', 'original')
    const body = twoParts(h.root, ['new ', 'content'], () => h.holdUserLock('race.txt', 'bob'))
    expect(
      await outcome(runBody(h.context('alice'), { op: 'write', name: 'race.txt' }, body)),
    ).toBe('ERR_LOCKED')
    expect(h.readFile('race.txt').toString()).toBe('original')
    expect(h.lockRequests.at(-1)).toMatchObject({
      names: ['race.txt', 'race.txt'],
      mode: 'write',
      outcome: 'ERR_LOCKED',
    })
    expect(h.locks.size).toBe(0)
    expect(h.logEntries()).toEqual([])
  })
})

describe('conditions (If-Match, If-None-Match)', () => {
  it('a write that holds its condition goes through', async () => {
    const h = createOpsHarness()
    h.writeFile('doc.txt', 'v1')
    const ctx = h.context()
    await runBody(ctx, { op: 'write', name: 'doc.txt' }, 'v2', {
      conditions: { ifMatch: [sha256Hex('v1')] },
    })
    await runBody(ctx, { op: 'upload', name: 'doc.txt' }, 'v3', {
      conditions: { ifMatch: '*', ifNoneMatch: [sha256Hex('v1')] },
    })
    await runBody(ctx, { op: 'upload', name: 'fresh.txt' }, 'new', {
      conditions: { ifNoneMatch: '*' },
    })
    expect(h.readFile('doc.txt').toString()).toBe('v3')
    expect(h.readFile('fresh.txt').toString()).toBe('new')
  })

  it('a failed condition is ERR_PRECONDITION and leaves the file unchanged', async () => {
    const h = createOpsHarness()
    h.writeFile('doc.txt', 'v1')
    const ctx = h.context()
    const cases = [
      { op: 'write', name: 'doc.txt', conditions: { ifMatch: [sha256Hex('other')] } },
      { op: 'upload', name: 'doc.txt', conditions: { ifNoneMatch: '*' } },
      { op: 'append', name: 'doc.txt', conditions: { ifNoneMatch: [sha256Hex('v1')] } },
      { op: 'upload', name: 'missing.txt', conditions: { ifMatch: '*' } },
      { op: 'upload', name: 'missing.txt', conditions: { ifMatch: [sha256Hex('v1')] } },
    ] as const
    for (const c of cases)
      expect(await outcome(runBody(ctx, { op: c.op, name: c.name }, 'changed', c)), c.op).toBe(
        'ERR_PRECONDITION',
      )
    expect(h.readFile('doc.txt').toString()).toBe('v1')
    expect(h.exists('missing.txt')).toBe(false)
    expect(await outcome(remove(ctx, { name: 'doc.txt' }, { ifMatch: [sha256Hex('v0')] }))).toBe(
      'ERR_PRECONDITION',
    )
    expect(h.exists('doc.txt')).toBe(true)
    expect(h.logEntries()).toEqual([])
    await remove(ctx, { name: 'doc.txt' }, { ifMatch: [sha256Hex('v1')] })
    expect(h.exists('doc.txt')).toBe(false)
  })

  it('is checked again at commit: a change by another program meanwhile fails it', async () => {
    const h = createOpsHarness()
    h.writeFile('doc.txt', 'v1')
    const body = twoParts(h.root, ['v2 ', 'by alice'], () =>
      h.writeFile('doc.txt', 'v1 edited by someone else'),
    )
    expect(
      await outcome(
        runBody(h.context(), { op: 'write', name: 'doc.txt' }, body, {
          conditions: { ifMatch: [sha256Hex('v1')] },
        }),
      ),
    ).toBe('ERR_PRECONDITION')
    expect(h.readFile('doc.txt').toString()).toBe('v1 edited by someone else')
  })
})

describe('rename and delete', () => {
  it('rename moves a file and records it; ERR_NOT_FOUND and ERR_EXISTS change nothing', async () => {
    const h = createOpsHarness()
    h.writeFile('from.txt', 'content')
    h.writeFile('taken.txt', 'other')
    const ctx = h.context('alice')
    expect(await rename(ctx, { from: 'from.txt', to: 'sub/to.txt' })).toEqual({
      from: 'from.txt',
      to: 'sub/to.txt',
    })
    expect(h.exists('from.txt')).toBe(false)
    expect(h.readFile('sub/to.txt').toString()).toBe('content')
    expect(await outcome(rename(ctx, { from: 'from.txt', to: 'x.txt' }))).toBe('ERR_NOT_FOUND')
    expect(await outcome(rename(ctx, { from: 'sub/to.txt', to: 'taken.txt' }))).toBe('ERR_EXISTS')
    expect(h.readFile('taken.txt').toString()).toBe('other')
    expect(h.readFile('sub/to.txt').toString()).toBe('content')
    expect(h.logEntries().map((e) => [e.op, e.name, e.to, e.client])).toEqual([
      ['rename', 'from.txt', 'sub/to.txt', 'alice'],
    ])
    expect(h.lockRequests[0]).toMatchObject({
      names: ['from.txt', 'sub/to.txt'],
      mode: 'write',
      purpose: 'rename',
    })
  })

  it('a locked file is not renamed, by another client or by its owner (ERR_LOCKED)', async () => {
    const h = createOpsHarness()
    h.writeFile('held.txt', 'x')
    h.holdUserLock('held.txt', 'bob')
    expect(await outcome(rename(h.context('alice'), { from: 'held.txt', to: 'y.txt' }))).toBe(
      'ERR_LOCKED',
    )
    expect(await outcome(rename(h.context('bob'), { from: 'held.txt', to: 'y.txt' }))).toBe(
      'ERR_LOCKED',
    )
    // Nor may another file be renamed onto it.
    h.writeFile('other.txt', 'o')
    expect(await outcome(rename(h.context('alice'), { from: 'other.txt', to: 'held.txt' }))).toBe(
      'ERR_LOCKED',
    )
    expect(h.readFile('held.txt').toString()).toBe('x')
    expect(h.exists('y.txt')).toBe(false)
    expect(h.logEntries()).toEqual([])
  })

  it('delete removes a file and records it; ERR_NOT_FOUND; a locked file stays', async () => {
    const h = createOpsHarness()
    h.writeFile('gone.txt', 'x')
    h.writeFile('held.txt', 'y')
    h.holdUserLock('held.txt', 'bob')
    const alice = h.context('alice')
    expect(await remove(alice, { name: 'gone.txt' })).toEqual({ name: 'gone.txt' })
    expect(h.exists('gone.txt')).toBe(false)
    expect(await outcome(remove(alice, { name: 'gone.txt' }))).toBe('ERR_NOT_FOUND')
    expect(await outcome(remove(alice, { name: 'held.txt' }))).toBe('ERR_LOCKED')
    expect(h.exists('held.txt')).toBe(true)
    // Its owner may delete it (only a rename needs an unlock first).
    await remove(h.context('bob'), { name: 'held.txt' })
    expect(h.exists('held.txt')).toBe(false)
    expect(h.logEntries().map((e) => [e.op, e.name, e.client])).toEqual([
      ['delete', 'gone.txt', 'alice'],
      ['delete', 'held.txt', 'bob'],
    ])
    expect(h.locks.size).toBe(0)
  })

  it('a path lock held too long is ERR_TIMEOUT (injected timers)', async () => {
    const pending: (() => void)[] = []
    const timers: Timers = {
      setTimeout: (fn) => pending.push(fn),
      clearTimeout: () => undefined,
    }
    const h = createOpsHarness({ timers })
    h.writeFile('busy.txt', 'x')
    const release = await h.lock(['busy.txt'], 'write', 'sync')
    const waiting = outcome(remove(h.context(), { name: 'busy.txt' }))
    await new Promise((resolve) => setImmediate(resolve))
    for (const fire of pending.splice(0)) fire()
    expect(await waiting).toBe('ERR_TIMEOUT')
    release()
    expect(h.exists('busy.txt')).toBe(true)
    // The late grant is handed straight back.
    await new Promise((resolve) => setImmediate(resolve))
    expect(h.locks.size).toBe(0)
  })
})

describe('user locks: lock, unlock, lock status', () => {
  it('lock and unlock by name, asked of the sync worker with the resolved name', async () => {
    const h = createOpsHarness()
    h.writeFile('a.txt', 'a')
    const alice = h.context('alice')
    const held = await lock(alice, { name: './a.txt', ttlSeconds: 60 })
    expect(held).toMatchObject({ name: 'a.txt', owner: 'alice', server: 'A' })
    expect(held.expiresAt).toBeGreaterThan(Date.now())
    expect(await outcome(lock(h.context('bob'), { name: 'a.txt' }))).toBe('ERR_LOCKED')
    expect(await outcome(unlock(h.context('bob'), { name: 'a.txt' }))).toBe('ERR_NOT_OWNER')
    expect(await unlock(alice, { name: 'a.txt' })).toMatchObject({ owner: 'alice', forced: false })
    expect(await outcome(unlock(alice, { name: 'a.txt' }))).toBe('ERR_NOT_FOUND')
    expect(await outcome(lock(alice, { name: 'none.txt' }))).toBe('ERR_NOT_FOUND')
    await lock(alice, { name: 'a.txt' })
    expect(await unlock(h.context('bob'), { name: 'a.txt', force: true })).toMatchObject({
      forced: true,
      owner: 'alice',
    })
    expect(h.userLockRequests.map((r) => [r.op, r.name, r.client])).toEqual([
      ['lock', 'a.txt', 'alice'],
      ['lock', 'a.txt', 'bob'],
      ['unlock', 'a.txt', 'bob'],
      ['unlock', 'a.txt', 'alice'],
      ['unlock', 'a.txt', 'alice'],
      ['lock', 'none.txt', 'alice'],
      ['lock', 'a.txt', 'alice'],
      ['unlock', 'a.txt', 'bob'],
    ])
  })

  it('lock by index resolves through the composite listing; ERR_LISTING_CHANGED when it moved', async () => {
    const h = createOpsHarness()
    h.writeFile('b.txt', 'b')
    h.writeFile('c.txt', 'c')
    const alice = h.context('alice')
    expect(await lock(alice, { index: 1, expect: 'c.txt' })).toMatchObject({ name: 'c.txt' })
    // A peer's file now sorts first: index 1 names b.txt.
    h.peerHolds('B', 'a.txt')
    expect(await outcome(unlock(alice, { index: 1, expect: 'c.txt' }))).toBe('ERR_LISTING_CHANGED')
    expect(await outcome(lock(alice, { index: 9, expect: 'c.txt' }))).toBe('ERR_LISTING_CHANGED')
    expect(await outcome(lock(alice, { index: 9 }))).toBe('ERR_NOT_FOUND')
    expect(await unlock(alice, { index: 2, expect: 'c.txt' })).toMatchObject({ name: 'c.txt' })
    // The ones refused never reached the sync worker.
    expect(h.userLockRequests.map((r) => [r.op, r.name])).toEqual([
      ['lock', 'c.txt'],
      ['unlock', 'c.txt'],
    ])
  })

  it('a peer’s lock refuses a lock here', async () => {
    const h = createOpsHarness()
    h.writeFile('p.txt', 'p')
    h.holdUserLock('p.txt', 'carol', 'B')
    expect(await outcome(lock(h.context(), { name: 'p.txt' }))).toBe('ERR_LOCKED')
  })

  it('the user-lock answer can come from the test', async () => {
    const h = createOpsHarness({
      userLock: async (request, client) => ({
        name: request.name,
        server: 'A',
        owner: client,
        since: 1,
        expiresAt: null,
        queued: 3,
      }),
    })
    expect(await lock(h.context('dave'), { name: 'x.txt' })).toMatchObject({
      queued: 3,
      owner: 'dave',
    })
    expect(h.userLockRequests).toEqual([
      { op: 'lock', name: 'x.txt', ttlSeconds: undefined, client: 'dave' },
    ])
  })

  it('lockStatus says whose lock it is, and `yours` for its owner', async () => {
    const h = createOpsHarness()
    h.writeFile('mine.txt', 'm')
    await lock(h.context('alice'), { name: 'mine.txt' })
    const peer: UserLock = h.holdUserLock('far.txt', 'carol', 'B')
    expect(lockStatus(h.context('alice'), { name: 'mine.txt' })).toMatchObject({
      locked: true,
      owner: 'alice',
      server: 'A',
      yours: true,
      expiresAt: null,
      queued: 0,
    })
    expect(lockStatus(h.context('bob'), { name: 'mine.txt' })).toMatchObject({
      locked: true,
      yours: false,
    })
    expect(lockStatus(h.context('carol'), { name: 'far.txt' })).toMatchObject({
      locked: true,
      owner: 'carol',
      server: 'B',
      since: peer.since,
      yours: true,
    })
    expect(lockStatus(h.context('alice'), { name: 'free.txt' })).toEqual({
      name: 'free.txt',
      locked: false,
      owner: null,
      server: null,
      since: null,
      expiresAt: null,
      queued: 0,
      yours: false,
    })
  })
})

describe('reading and content hashes', () => {
  it('openFile pins the version; a download, a read and a broken-off one are each logged as what they were', async () => {
    const h = createOpsHarness()
    h.writeFile('r.txt', 'read me')
    const ctx = h.context('alice')
    const opened = await openFile(ctx, { name: 'r.txt' })
    try {
      // Writers replace by rename: the open handle keeps reading the old version.
      await runBody(h.context('bob'), { op: 'upload', name: 'r.txt' }, 'replaced, and longer')
      expect(opened.info).toMatchObject({ name: 'r.txt', size: 7 })
      const buf = Buffer.alloc(7)
      await opened.handle.read(buf, 0, 7, 0)
      expect(buf.toString()).toBe('read me')
      readEnded(ctx, opened.info, { bytes: 7, size: 7, purpose: undefined })
      readEnded(ctx, opened.info, { bytes: 7, size: 7, purpose: 'read' })
      readEnded(ctx, opened.info, { bytes: 4, size: 7, purpose: 'download' })
    } finally {
      await opened.handle.close()
    }
    expect(await outcome(openFile(ctx, { name: 'none.txt' }))).toBe('ERR_NOT_FOUND')
    expect(h.consoleLines.filter((l) => l.op !== 'upload')).toEqual([
      { op: 'download', name: 'r.txt', size: 7, client: 'alice', record: true },
      { op: 'read', name: 'r.txt', size: 7, client: 'alice', record: true },
      {
        op: 'download-interrupted',
        name: 'r.txt',
        size: 7,
        bytes: 4,
        detail: null,
        client: 'alice',
        record: true,
      },
    ])
    expect(h.logEntries().map((e) => e.op)).toEqual([
      'upload',
      'download',
      'read',
      'download-interrupted',
    ])
  })

  it('a hash the index knows for this identity is used without reading; else it is computed', async () => {
    const h = createOpsHarness()
    const ctx = h.context()
    h.writeFile('known-hash.txt', 'indexed content')
    const told = 'b'.repeat(64) // not the real hash: only the index can have said it
    h.setKnownHash('known-hash.txt', told)
    let opened = await openFile(ctx, { name: 'known-hash.txt' })
    expect(await hashOf(ctx, opened)).toBe(told)
    await opened.handle.close()
    // A condition is checked against the content itself (the index's fingerprint has no ctime:
    // a rewrite in place keeping size and mtime would fool it), so the index's word is not enough.
    expect(
      await outcome(
        runBody(ctx, { op: 'append', name: 'known-hash.txt' }, '!', {
          conditions: { ifMatch: [told] },
        }),
      ),
    ).toBe('ERR_PRECONDITION')
    await runBody(ctx, { op: 'append', name: 'known-hash.txt' }, '!', {
      conditions: { ifMatch: [sha256Hex('indexed content')] },
    })
    // Changed since it was indexed: the identity differs, the file is read.
    opened = await openFile(ctx, { name: 'known-hash.txt' })
    expect(await hashOf(ctx, opened)).toBe(sha256Hex('indexed content!'))
    await opened.handle.close()
    // Another program's write, not indexed: computed.
    h.writeFile('computed-hash.txt', 'nobody indexed me')
    opened = await openFile(ctx, { name: 'computed-hash.txt' })
    expect(
      await contentHash(ctx, 'computed-hash.txt', opened.handle, opened.identity, opened.changedMs),
    ).toBe(sha256Hex('nobody indexed me'))
    await opened.handle.close()
  })

  it('an upload’s hash is remembered: asked again, the file is not read', async () => {
    const h = createOpsHarness()
    const ctx = h.context()
    const { result } = await runBody(
      ctx,
      { op: 'upload', name: 'remembered.txt', mtime: 1_650_000_000_123.5 },
      'abc',
    )
    const opened = await openFile(ctx, { name: 'remembered.txt' })
    await opened.handle.close()
    const unreadable = {
      read: () => Promise.reject(new Error('read the file instead of remembering its hash')),
    } as unknown as FileHandle
    expect(
      await contentHash(ctx, 'remembered.txt', unreadable, opened.identity, opened.changedMs),
    ).toBe(result.sha256)
    expect(h.publications[0]).toMatchObject({
      name: 'remembered.txt',
      sha256: result.sha256,
      identity: opened.identity,
    })
  })
})

describe('the change log and status', () => {
  it('records each change in order, read back through the context', async () => {
    const h = createOpsHarness()
    const alice = h.context('alice')
    await runBody(alice, { op: 'upload', name: 'one.txt' }, '1')
    await runBody(alice, { op: 'create', name: 'two.txt' }, '2')
    await runBody(alice, { op: 'write', name: 'two.txt' }, '22')
    await runBody(h.context('bob'), { op: 'append', name: 'two.txt' }, '2')
    await rename(alice, { from: 'one.txt', to: 'uno.txt' })
    await remove(alice, { name: 'uno.txt' })
    const entries = await alice.readLog({ limit: 50 })
    expect(entries.map((e) => [e.op, e.name, e.to, e.client, e.size])).toEqual([
      ['upload', 'one.txt', null, 'alice', 1],
      ['create', 'two.txt', null, 'alice', 1],
      ['write', 'two.txt', null, 'alice', 2],
      ['append', 'two.txt', null, 'bob', 1],
      ['rename', 'one.txt', 'uno.txt', 'alice', null],
      ['delete', 'uno.txt', null, 'alice', null],
    ])
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6])
    expect((await alice.readLog({ since: 4, limit: 50 })).map((e) => e.op)).toEqual([
      'rename',
      'delete',
    ])
    const status = await alice.status()
    expect(status.server.name).toBe('A')
    expect(status.pathLocks).toEqual([])
  })
})
