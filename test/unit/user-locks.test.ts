// User locks (sync/user-locks.ts) on a real index.db and data directory in a temp dir, with the
// clock injected (`now`) and the time-to-live timers faked (vitest: setTimeout only), no network:
// who may lock and unlock, the time-to-live (also past setTimeout's range, and ended while the
// server was down), what a new UserLocks on the same database finds, and the queue of peers'
// updates — kept with their content, each version once, applied in arrival order on unlock.
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { TandemError } from '../../src/protocol/index.js'
import { openIndexDb, type IndexDb } from '../../src/server/index/database.js'
import type { FileEntry } from '../../src/server/index/entry.js'
import { FileIndex } from '../../src/server/index/file-index.js'
import { QueuedContent } from '../../src/server/sync/user-locks/queued-content.js'
import { UserLockStore } from '../../src/server/sync/user-locks/user-lock-store.js'
import { UserLocks, type UserLockEvent } from '../../src/server/sync/user-locks/user-locks.js'
import { FileStore } from '../../src/server/storage/file-store.js'
import { TempFile } from '../../src/server/storage/temp-file.js'
import type { PeerSource } from '../../src/server/sync/peer-source.js'
import { registerCleanup, tempDir } from '../helpers/index.js'

const SECOND = 1_000
/** setTimeout's longest delay. */
const MAX_TIMER_MS = 2 ** 31 - 1
const T0 = 1_750_000_000_000

// The time-to-live timers and the clock are faked together (vitest; setImmediate and file I/O
// run as usual), and the UserLocks is given that clock as its `now`, plus a skew a test may set.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
  vi.setSystemTime(T0)
})
afterEach(() => vi.useRealTimers())

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

/** A peer's version of `name` with `text` as its content (or its tombstone). */
function version(name: string, vector: Record<string, number>, text: string | null): FileEntry {
  const origin = Object.keys(vector).at(-1)!
  return {
    name,
    size: text === null ? 0 : Buffer.byteLength(text),
    mtime: T0 + Object.values(vector).reduce((a, b) => a + b, 0),
    hash: text === null ? null : sha256(text),
    deleted: text === null,
    version: vector,
    origin,
    seq: 1,
    renamedFrom: null,
  }
}

/** A peer that sends the contents it knows, by hash; `gate` holds a fetch back until opened. */
function peer(
  name: string,
  texts: string[],
  gate?: Promise<void>,
): PeerSource & { fetched: number } {
  const byHash = new Map(texts.map((t) => [sha256(t), t]))
  const source = {
    name,
    fetched: 0,
    fetch: async (file: string, hash: string, _size: number, temp: TempFile) => {
      await gate
      const text = byHash.get(hash)
      if (text === undefined) throw new Error(`${name} has no ${hash} for ${file}`)
      source.fetched++
      await temp.write([Buffer.from(text)])
      return { size: Buffer.byteLength(text), mtime: T0 }
    },
  }
  return source
}

interface Applied {
  peer: string
  unlocks: string | undefined
  vector: Record<string, number>
  text: string | null
}

/** Poll until `check` holds, in real time (the file I/O of a queue being applied is real). */
async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 2_000
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`gave up waiting for ${what}`)
    await new Promise((resolve) => setImmediate(resolve))
  }
}

function code(err: unknown): string {
  return err instanceof TandemError ? err.code : `not a TandemError: ${String(err)}`
}

async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise
  } catch (err) {
    return { code: code(err), message: (err as Error).message }
  }
  throw new Error('expected a refusal')
}

/** One server's data directory and state directory; `open` makes a UserLocks over them. */
function server(dir = tempDir('tandem-user-locks-')) {
  const root = path.join(dir, 'root')
  const state = path.join(dir, 'state')
  fs.mkdirSync(root, { recursive: true })
  /** How far the UserLocks' clock is ahead of the timers' (ms). */
  const clock = { skew: 0 }
  let db: IndexDb | undefined
  let current: UserLocks | undefined
  registerCleanup(() => {
    current?.stop()
    if (db?.open) db.close()
  })

  function open(
    options: {
      apply?: (source: PeerSource, entry: FileEntry) => Promise<void>
    } = {},
  ) {
    current?.stop()
    if (db?.open) db.close()
    db = openIndexDb(state)
    const index = new FileIndex(db)
    const files = new FileStore(root)
    const store = new UserLockStore(db)
    const events: UserLockEvent[] = []
    const warnings: string[] = []
    const applied: Applied[] = []
    /** What happened around the path locks, in order. */
    const trail: string[] = []
    // Read the content the way the applier does: fetched from the source into a temp file.
    const readAndRecord = async (source: PeerSource, entry: FileEntry) => {
      let text: string | null = null
      if (entry.hash) {
        const temp = await TempFile.create(path.join(dir, 'applied', entry.name), entry.name)
        try {
          await source.fetch(entry.name, entry.hash, entry.size, temp)
          await temp.seal({ sha256: Buffer.from(entry.hash, 'hex'), size: entry.size })
          text = fs.readFileSync(temp.path, 'utf8')
        } finally {
          await temp.discard()
        }
      }
      applied.push({ peer: source.name, unlocks: source.unlocks, vector: entry.version, text })
    }
    const locks = new UserLocks({
      self: 'A',
      store,
      content: new QueuedContent(state, index, files),
      index,
      files,
      lockPaths: (names) => {
        trail.push(`lock ${names.join(',')}`)
        return Promise.resolve(() => trail.push(`release ${names.join(',')}`))
      },
      scan: () => Promise.resolve(),
      report: (event) => events.push(event),
      changed: () => {
        trail.push('changed')
      },
      warn: (message) => warnings.push(message),
      now: () => Date.now() + clock.skew,
    })
    const apply = options.apply ?? readAndRecord
    locks.applyThrough({ applyBatch: (source, entries) => apply(source, entries[0]!) })
    current = locks
    locks.load()
    return {
      locks,
      store,
      index,
      events,
      warnings,
      applied,
      trail,
      readAndRecord,
      ops: () => events.map((e) => e.op),
      queueFiles: () => {
        try {
          return fs.readdirSync(path.join(state, 'queue'))
        } catch {
          return []
        }
      },
    }
  }

  /** Move the clock on, and the timers with it (each fires with the clock at its time). */
  const advance = (ms: number) => vi.advanceTimersByTimeAsync(ms)
  /** Move the clock on while no timer runs (the server was down). */
  const down = (ms: number) => vi.setSystemTime(Date.now() + ms)

  const write = (name: string, text: string) => fs.writeFileSync(path.join(root, name), text)
  return { dir, root, state, clock, open, advance, down, write }
}

describe('user locks: lock and unlock', () => {
  it('locks a file under its write lock and unlocks it', async () => {
    const s = server()
    s.write('plan.txt', 'v0')
    const a = s.open()
    await a.locks.begin()
    const lock = await a.locks.lock('plan.txt', 'alice')
    expect(lock).toEqual({
      name: 'plan.txt',
      server: 'A',
      owner: 'alice',
      since: T0,
      expiresAt: null,
      queued: 0,
    })
    // Stored and told before the write lock is released: a write waiting for it sees the lock.
    expect(a.trail).toEqual(['lock plan.txt', 'changed', 'release plan.txt'])
    expect(a.locks.held('plan.txt')).toBe(true)
    expect(a.locks.list()).toEqual([lock])
    expect(a.store.locks()).toEqual([
      { name: 'plan.txt', owner: 'alice', since: T0, expires: null, unlocking: null },
    ])

    const outcome = await a.locks.unlock('plan.txt', 'alice')
    expect(outcome).toEqual({
      name: 'plan.txt',
      owner: 'alice',
      forced: false,
      applied: 0,
      conflicts: 0,
    })
    expect(a.locks.held('plan.txt')).toBe(false)
    expect(a.locks.list()).toEqual([])
    expect(a.store.locks()).toEqual([])
    expect(a.ops()).toEqual(['lock', 'unlock'])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('refuses another owner (ERR_LOCKED), lets the owner lock again and keeps its since', async () => {
    const s = server()
    s.write('plan.txt', 'v0')
    const a = s.open()
    await a.locks.lock('plan.txt', 'alice', 60)
    const taken = await refusal(a.locks.lock('plan.txt', 'bob'))
    expect(taken.code).toBe('ERR_LOCKED')
    expect(taken.message).toBe(
      `'plan.txt' is locked by alice at A until ${new Date(T0 + 60 * SECOND).toISOString()}`,
    )
    await s.advance(10 * SECOND)
    // The owner again: a new time-to-live from now (here: none), the same since.
    const again = await a.locks.lock('plan.txt', 'alice')
    expect(again).toMatchObject({ owner: 'alice', since: T0, expiresAt: null })
    expect(vi.getTimerCount()).toBe(0) // the old time-to-live no longer ends it
    await s.advance(3_600 * SECOND)
    expect(a.locks.held('plan.txt')).toBe(true)
  })

  it('refuses an unlock by another client (ERR_NOT_OWNER) unless forced', async () => {
    const s = server()
    s.write('plan.txt', 'v0')
    const a = s.open()
    await a.locks.lock('plan.txt', 'alice')
    const notOwner = await refusal(a.locks.unlock('plan.txt', 'bob'))
    expect(notOwner.code).toBe('ERR_NOT_OWNER')
    expect(notOwner.message).toContain('locked by alice at A, not by bob')
    expect(a.locks.held('plan.txt')).toBe(true)
    const forced = await a.locks.unlock('plan.txt', 'bob', true)
    expect(forced).toMatchObject({ owner: 'alice', forced: true })
    expect(a.events.at(-1)).toMatchObject({ op: 'unlock', owner: 'alice', detail: 'forced by bob' })
    expect(a.locks.held('plan.txt')).toBe(false)
    // Nothing to unlock any more.
    expect((await refusal(a.locks.unlock('plan.txt', 'alice'))).code).toBe('ERR_NOT_FOUND')
  })

  it('locks only a file that is here: not a missing name, a folder or a symlink', async () => {
    const s = server()
    fs.mkdirSync(path.join(s.root, 'docs'))
    s.write('real.txt', 'x')
    fs.symlinkSync('real.txt', path.join(s.root, 'link.txt'))
    const a = s.open()
    expect((await refusal(a.locks.lock('missing.txt', 'alice'))).code).toBe('ERR_NOT_FOUND')
    expect((await refusal(a.locks.lock('docs', 'alice'))).code).toBe('ERR_IS_DIRECTORY')
    expect((await refusal(a.locks.lock('link.txt', 'alice'))).code).toBe('ERR_NOT_FOUND')
    expect(a.locks.list()).toEqual([])
    expect(a.trail).toEqual([]) // refused before any write lock was taken
  })

  it("refuses a file a peer holds locked, until the peer's lock has run out", async () => {
    const s = server()
    s.write('plan.txt', 'v0')
    const a = s.open()
    a.store.replacePeerLocks('B', [
      { name: 'plan.txt', owner: 'bob', since: T0, expiresAt: T0 + 30 * SECOND, queued: 0 },
    ])
    const theirs = await refusal(a.locks.lock('plan.txt', 'alice'))
    expect(theirs).toEqual({ code: 'ERR_LOCKED', message: "'plan.txt' is locked by bob at B" })
    s.clock.skew = 30 * SECOND // the injected clock judges the peer's time-to-live too
    await expect(a.locks.lock('plan.txt', 'alice')).resolves.toMatchObject({ owner: 'alice' })
  })

  it('ends a lock when its file is deleted here', async () => {
    const s = server()
    s.write('plan.txt', 'v0')
    const a = s.open()
    await a.locks.lock('plan.txt', 'alice')
    // The scanner's tombstone for a local delete.
    a.index.put([{ entry: { ...version('plan.txt', { A: 2 }, null) }, fingerprint: null }])
    await until(() => !a.locks.held('plan.txt'), 'the lock to end')
    expect(a.events.at(-1)).toMatchObject({ op: 'unlock', detail: 'the file was deleted' })
    // A peer's tombstone is not a delete here: it would have been queued, never stored.
    s.write('other.txt', 'x')
    await a.locks.lock('other.txt', 'alice')
    a.index.put([{ entry: { ...version('other.txt', { B: 1 }, null) }, fingerprint: null }])
    await new Promise((resolve) => setImmediate(resolve))
    expect(a.locks.held('other.txt')).toBe(true)
  })
})

describe('user locks: time-to-live', () => {
  it('ends a lock when its time runs out, by the injected clock', async () => {
    const s = server()
    s.write('plan.txt', 'v0')
    const a = s.open()
    await a.locks.begin()
    const lock = await a.locks.lock('plan.txt', 'alice', 60)
    expect(lock.expiresAt).toBe(T0 + 60 * SECOND)
    expect(a.events[0]).toMatchObject({ op: 'lock', detail: 'for 60 s' })
    await s.advance(60 * SECOND - 1)
    expect(a.locks.held('plan.txt')).toBe(true)
    await s.advance(1)
    await until(() => !a.locks.held('plan.txt'), 'the lock to run out')
    expect(a.events.at(-1)).toMatchObject({ op: 'unlock', detail: 'its time ran out' })
    expect(a.store.locks()).toEqual([])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('waits again when its timer fires before the clock says the time is up', async () => {
    const s = server()
    s.write('plan.txt', 'v0')
    const a = s.open()
    await a.locks.lock('plan.txt', 'alice', 60)
    // The timer falls due, but by the clock 5 s are still left (a clock behind the timers).
    s.clock.skew = -5 * SECOND
    await s.advance(60 * SECOND)
    expect(a.locks.held('plan.txt')).toBe(true)
    expect(vi.getTimerCount()).toBe(1) // re-armed for the rest
    await s.advance(5 * SECOND)
    await until(() => !a.locks.held('plan.txt'), 'the lock to run out')
  })

  it("reaches a time-to-live past setTimeout's range in steps", async () => {
    const s = server()
    s.write('plan.txt', 'v0')
    const a = s.open()
    const days40 = 40 * 24 * 3_600
    await a.locks.lock('plan.txt', 'alice', days40)
    // Node would fire a longer delay after 1 ms; it must not end the lock early.
    await s.advance(SECOND)
    expect(a.locks.held('plan.txt')).toBe(true)
    await s.advance(MAX_TIMER_MS) // the first step ends: armed again for what is left
    expect(a.locks.held('plan.txt')).toBe(true)
    expect(vi.getTimerCount()).toBe(1)
    await s.advance(days40 * SECOND - MAX_TIMER_MS - SECOND - 1)
    expect(a.locks.held('plan.txt')).toBe(true)
    await s.advance(1)
    await until(() => !a.locks.held('plan.txt'), 'the lock to run out')
  })
})

describe('user locks: persistence', () => {
  it('a new UserLocks on the same index.db holds the same locks and queue', async () => {
    const s = server()
    s.write('plan.txt', 'v0')
    s.write('notes.txt', 'n0')
    const first = s.open()
    await first.locks.begin()
    await first.locks.lock('plan.txt', 'alice')
    await first.locks.lock('notes.txt', 'bob', 3_600)
    const b = peer('B', ['v1'])
    await first.locks.enqueue(b, version('plan.txt', { B: 1 }, 'v1'))
    const before = first.locks.list()

    s.down(60 * SECOND) // the server restarts a minute later
    const second = s.open()
    expect(second.locks.list()).toEqual(before)
    expect(second.locks.held('plan.txt')).toBe(true)
    expect(second.locks.list().find((l) => l.name === 'plan.txt')?.queued).toBe(1)
    await second.locks.begin()
    expect(second.warnings).toEqual([])
    expect(second.queueFiles()).toHaveLength(1) // still referenced: kept

    // The queued update is applied from the content kept before the restart (not fetched again).
    const outcome = await second.locks.unlock('plan.txt', 'alice')
    expect(outcome.applied).toBe(1)
    expect(second.applied).toEqual([
      { peer: 'B', unlocks: 'plan.txt', vector: { B: 1 }, text: 'v1' },
    ])
    expect(b.fetched).toBe(1)
    expect(second.queueFiles()).toEqual([])
    // The other lock's time-to-live still counts from when it was taken.
    await s.advance(3_600 * SECOND - 60 * SECOND)
    await until(() => !second.locks.held('notes.txt'), 'the lock to run out')
  })

  it('ends at start a lock whose time ran out while the server was down', async () => {
    const s = server()
    s.write('plan.txt', 'v0')
    const first = s.open()
    await first.locks.lock('plan.txt', 'alice', 60)
    first.locks.stop()
    s.down(3_600 * SECOND)
    const second = s.open()
    expect(second.locks.held('plan.txt')).toBe(true) // loaded, clients refused from the start
    await second.locks.begin()
    await vi.advanceTimersByTimeAsync(0)
    await until(() => !second.locks.held('plan.txt'), 'the lock to end')
    expect(second.events.at(-1)).toMatchObject({ op: 'unlock', detail: 'its time ran out' })
  })

  it('resumes at start an unlock cut short, and removes queue files no update refers to', async () => {
    const s = server()
    s.write('plan.txt', 'v0')
    const first = s.open()
    await first.locks.lock('plan.txt', 'alice')
    await first.locks.enqueue(peer('B', ['v1']), version('plan.txt', { B: 1 }, 'v1'))
    // As if killed while applying the queue: the mark is in the row; and a content kept
    // without its row.
    first.store.setUnlocking('plan.txt', 'unlocked')
    fs.writeFileSync(path.join(s.state, 'queue', 'q-orphan'), 'lost')
    first.locks.stop()

    const second = s.open()
    await second.locks.begin()
    expect(second.warnings).toEqual(['removed 1 queued content file(s) no update refers to'])
    await until(() => !second.locks.held('plan.txt'), 'the unlock to finish')
    expect(second.applied.map((u) => u.text)).toEqual(['v1'])
    expect(second.events.at(-1)).toMatchObject({
      op: 'unlock',
      detail: 'unlocked (resumed after a restart); 1 queued update applied',
    })
    expect(second.queueFiles()).toEqual([])
  })
})

describe('user locks: the queue', () => {
  it('applies queued updates in arrival order, each with its own content', async () => {
    const s = server()
    s.write('plan.txt', 'v0')
    const a = s.open()
    await a.locks.lock('plan.txt', 'alice')
    const b = peer('B', ['b1', 'b2'])
    const c = peer('C', ['c1'])
    await a.locks.enqueue(b, version('plan.txt', { B: 1 }, 'b1'))
    await a.locks.enqueue(c, version('plan.txt', { B: 1, C: 1 }, 'c1'))
    await a.locks.enqueue(b, version('plan.txt', { B: 2, C: 1 }, 'b2'))
    await a.locks.enqueue(c, version('plan.txt', { B: 2, C: 2 }, null)) // a delete, last
    expect(a.locks.list()[0]?.queued).toBe(4)
    expect(a.queueFiles()).toHaveLength(3) // a tombstone has no content
    expect(
      a.events.filter((e) => e.op === 'lock-queue').map((e) => [e.peer, e.queued, e.detail]),
    ).toEqual([
      ['B', 1, ''],
      ['C', 2, ''],
      ['B', 3, ''],
      ['C', 4, 'a deletion'],
    ])

    const outcome = await a.locks.unlock('plan.txt', 'alice')
    expect(outcome).toMatchObject({ applied: 4, conflicts: 0 })
    expect(a.applied).toEqual([
      { peer: 'B', unlocks: 'plan.txt', vector: { B: 1 }, text: 'b1' },
      { peer: 'C', unlocks: 'plan.txt', vector: { B: 1, C: 1 }, text: 'c1' },
      { peer: 'B', unlocks: 'plan.txt', vector: { B: 2, C: 1 }, text: 'b2' },
      { peer: 'C', unlocks: 'plan.txt', vector: { B: 2, C: 2 }, text: null },
    ])
    expect(a.events.filter((e) => e.op === 'lock-apply').map((e) => [e.peer, e.queued])).toEqual([
      ['B', 3],
      ['C', 2],
      ['B', 1],
      ['C', 0],
    ])
    expect(a.events.at(-1)).toMatchObject({ op: 'unlock', detail: '4 queued updates applied' })
    expect(a.store.queued('plan.txt')).toEqual([])
    expect(a.queueFiles()).toEqual([])
  })

  it('queues a version once, from whichever peer, and not one older than what waits', async () => {
    const s = server()
    s.write('plan.txt', 'v0')
    const a = s.open()
    await a.locks.lock('plan.txt', 'alice')
    const b = peer('B', ['b1', 'b2'])
    const c = peer('C', ['b1', 'b2'])
    await a.locks.enqueue(b, version('plan.txt', { B: 2 }, 'b2'))
    await a.locks.enqueue(c, version('plan.txt', { B: 2 }, 'b2')) // C relays the same version
    await a.locks.enqueue(b, version('plan.txt', { B: 1 }, 'b1')) // older than what waits
    expect(a.store.queued('plan.txt')).toHaveLength(1)
    expect(b.fetched + c.fetched).toBe(1)
    expect(await a.locks.unlock('plan.txt', 'alice')).toMatchObject({ applied: 1 })
  })

  it('passes over an update the file already has, and a conflict a later update carries', async () => {
    const s = server()
    s.write('plan.txt', 'v0')
    const a = s.open({
      apply: async (source, entry) => {
        await a.readAndRecord(source, entry)
        source.onReport?.({ op: 'sync-conflict', name: entry.name, peer: source.name })
      },
    })
    // The owner's edit under the lock, indexed here: version {A:1}.
    a.index.put([{ entry: version('plan.txt', { A: 1 }, 'mine'), fingerprint: null }])
    await a.locks.lock('plan.txt', 'alice')
    const b = peer('B', ['b1', 'b2', 'b3'])
    await a.locks.enqueue(b, version('plan.txt', { B: 1 }, 'b1')) // concurrent with {A:1}
    await a.locks.enqueue(b, version('plan.txt', { B: 2 }, 'b2')) // so is this, and it carries b1
    const outcome = await a.locks.unlock('plan.txt', 'alice')
    expect(outcome).toMatchObject({ applied: 1, conflicts: 1 })
    expect(a.applied.map((u) => u.text)).toEqual(['b2'])
    expect(a.events.filter((e) => e.op === 'lock-apply').map((e) => e.detail)).toEqual([
      'carried by a later update',
      'both versions kept (a conflict copy)',
    ])

    // A queued version the index already has (or has a descendant of) changes nothing.
    await a.locks.lock('plan.txt', 'alice')
    await a.locks.enqueue(b, version('plan.txt', { A: 1, B: 3 }, 'b3'))
    a.index.put([{ entry: version('plan.txt', { A: 1, B: 4 }, 'b4'), fingerprint: null }])
    expect(await a.locks.unlock('plan.txt', 'alice')).toMatchObject({ applied: 0 })
    expect(a.events.filter((e) => e.op === 'lock-apply').at(-1)?.detail).toBe('already here')
  })

  it('an unlock waits for an update whose content is still arriving, and applies it', async () => {
    const s = server()
    s.write('plan.txt', 'v0')
    const a = s.open()
    await a.locks.lock('plan.txt', 'alice')
    let open!: () => void
    const gate = new Promise<void>((resolve) => (open = resolve))
    const queued = a.locks.enqueue(peer('B', ['b1'], gate), version('plan.txt', { B: 1 }, 'b1'))
    let unlocked = false
    const unlock = a.locks.unlock('plan.txt', 'alice').then((o) => {
      unlocked = true
      return o
    })
    // Both unlock calls share the one unlock in progress.
    const second = a.locks.unlock('plan.txt', 'alice')
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve))
    expect(unlocked).toBe(false)
    expect(a.locks.held('plan.txt')).toBe(true)
    // While its queue is applied, not even the owner locks it again.
    expect((await refusal(a.locks.lock('plan.txt', 'alice'))).code).toBe('ERR_LOCKED')
    open()
    await queued
    expect(await unlock).toMatchObject({ applied: 1 })
    expect(await second).toMatchObject({ applied: 1 })
    expect(a.applied.map((u) => u.text)).toEqual(['b1'])
    expect(a.locks.held('plan.txt')).toBe(false)
  })

  it('keeps the lock and its queue when the queue cannot be applied; an expired lock tries again', async () => {
    const s = server()
    s.write('plan.txt', 'v0')
    let failing = true
    const a = s.open({
      apply: async (source, entry) => {
        if (failing) throw new TandemError('ERR_NO_SPACE', 'the disk is full')
        await a.readAndRecord(source, entry)
      },
    })
    await a.locks.lock('plan.txt', 'alice', 60)
    await a.locks.enqueue(peer('B', ['b1']), version('plan.txt', { B: 1 }, 'b1'))
    expect((await refusal(a.locks.unlock('plan.txt', 'alice'))).code).toBe('ERR_NO_SPACE')
    await new Promise((resolve) => setImmediate(resolve))
    expect(a.locks.held('plan.txt')).toBe(true)
    expect(a.store.locks()[0]?.unlocking).toBe(null) // nothing to resume at the next start
    expect(a.store.queued('plan.txt')).toHaveLength(1)

    // Its time runs out while the disk is still full: it stays, and is tried every 5 s.
    await s.advance(60 * SECOND)
    await until(() => a.warnings.length === 1, 'the expiry to fail')
    expect(a.warnings[0]).toContain('expired but its queue waits')
    expect(a.locks.held('plan.txt')).toBe(true)
    failing = false
    await s.advance(5 * SECOND)
    await until(() => !a.locks.held('plan.txt'), 'the retry to unlock')
    expect(a.applied.map((u) => u.text)).toEqual(['b1'])
  })

  it('stopping while the queue is applied leaves the unlock to resume at the next start', async () => {
    const s = server()
    s.write('plan.txt', 'v0')
    let open!: () => void
    const gate = new Promise<void>((resolve) => (open = resolve))
    const first = s.open({
      apply: async (source, entry) => {
        await gate
        await first.readAndRecord(source, entry)
      },
    })
    await first.locks.lock('plan.txt', 'alice')
    const b = peer('B', ['b1', 'b2'])
    await first.locks.enqueue(b, version('plan.txt', { B: 1 }, 'b1'))
    await first.locks.enqueue(b, version('plan.txt', { B: 2 }, 'b2'))
    const unlock = first.locks.unlock('plan.txt', 'alice')
    await until(() => first.store.locks()[0]?.unlocking === 'unlocked', 'the unlock to start')
    first.locks.stop()
    open()
    expect((await refusal(unlock)).code).toBe('ERR_SHUTTING_DOWN')
    expect(first.applied.map((u) => u.text)).toEqual(['b1']) // the one under way finished
    expect(first.store.locks()[0]?.unlocking).toBe('unlocked')

    const second = s.open()
    await second.locks.begin()
    await until(() => !second.locks.held('plan.txt'), 'the unlock to resume')
    expect(second.applied.map((u) => u.text)).toEqual(['b2'])
  })
})
