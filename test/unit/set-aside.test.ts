// The set-aside rules, on a real index database in a temp directory with a fake clock: a newer
// entry of a name replaces the older and an older one never replaces the newer; only the same or
// a newer entry clears a row; retries back off (1 s, 2 s, 4 s…); a change at a related name (the
// same, a folder above, a file below) retries at once, an unrelated one does not; rows survive a
// restart (a new SetAside over the same database).
import { describe, expect, it } from 'vitest'
import { TandemError } from '../../src/protocol/index.js'
import { openIndexDb } from '../../src/server/index/database.js'
import type { FileEntry } from '../../src/server/index/entry.js'
import type { PeerSource } from '../../src/server/sync/peer-source.js'
import { SetAside, type SetAsideEvent } from '../../src/server/sync/set-aside.js'
import { SetAsideStore } from '../../src/server/sync/set-aside-store.js'
import { registerCleanup, tempDir, waitFor } from '../helpers/index.js'

const A: PeerSource = { name: 'A', fetch: () => Promise.reject(new Error('no fetch here')) }
const FULL = new TandemError('ERR_NO_SPACE', 'full')

function entry(name: string, seq: number): FileEntry {
  return {
    name,
    size: 10,
    mtime: 1,
    hash: 'ab'.repeat(32),
    deleted: false,
    version: { A: seq },
    origin: 'A',
    seq,
    renamedFrom: null,
  }
}

function setup(dir = tempDir('tandem-set-aside-')) {
  const db = openIndexDb(dir)
  registerCleanup(() => {
    if (db.open) db.close()
  })
  const clock = { now: 1_000_000 }
  const events: SetAsideEvent[] = []
  const retried: FileEntry[][] = []
  const aside = new SetAside({
    store: new SetAsideStore(db),
    now: () => clock.now,
    freeBytes: () => Promise.resolve(0),
    report: (e) => events.push(e),
    retry: (_peer, entries) => {
      retried.push(entries)
      return Promise.reject(FULL) // still cannot be applied
    },
  })
  registerCleanup(() => aside.stop())
  return { dir, db, clock, events, retried, aside }
}

describe('set-aside entries', () => {
  it('keep only the newest entry of a name, and only the same or a newer one clears it', () => {
    const { aside, events } = setup()
    aside.add(A, entry('a.txt', 5), FULL)
    aside.add(A, entry('a.txt', 3), FULL) // older: ignored
    expect(aside.list().map((e) => [e.name, e.attempts])).toEqual([['a.txt', 1]])
    aside.add(A, entry('a.txt', 7), FULL) // newer: replaces, and counts anew
    aside.cleared(A, entry('a.txt', 6)) // older than what waits: does not clear it
    expect(aside.list()).toHaveLength(1)
    aside.cleared(A, entry('a.txt', 7))
    expect(aside.list()).toEqual([])
    // Said once when set aside, once when cleared.
    expect(events.map((e) => e.op)).toEqual(['sync-blocked', 'sync-cleared'])
  })

  it('back off: each failed attempt of the same entry doubles the wait', () => {
    const { aside, clock } = setup()
    const waits: number[] = []
    for (let i = 0; i < 4; i++) {
      aside.add(A, entry('a.txt', 1), FULL)
      waits.push(aside.list()[0]!.nextRetryAt - clock.now)
    }
    expect(waits).toEqual([1_000, 2_000, 4_000, 8_000])
    expect(aside.list()[0]!.attempts).toBe(4)
  })

  it('are tried again at once after a change at a related name, not at another', async () => {
    const { aside, clock, retried } = setup()
    aside.start()
    aside.add(A, entry('x/y/inner.txt', 1), FULL)
    clock.now += 1_000 // past the gap that keeps a row from being nudged twice in a row
    aside.nudge(['other.txt', 'x/yz'])
    await new Promise((resolve) => setImmediate(resolve))
    expect(retried).toEqual([])
    aside.nudge(['x']) // a folder above it (a file in its way removed, say)
    await waitFor(() => retried.length === 1, { what: 'the retry' })
    expect(retried[0]!.map((e) => e.name)).toEqual(['x/y/inner.txt'])
    // The attempt failed: it waits again, with one more attempt counted.
    await waitFor(() => aside.list()[0]!.attempts === 2, { what: 'the attempt counted' })
  })

  it('survive a restart, and a new epoch of their peer drops them', () => {
    const first = setup()
    first.aside.add(A, entry('a.txt', 4), FULL)
    first.aside.add({ ...A, name: 'C' }, entry('c.txt', 2), FULL)
    first.aside.stop()
    first.db.close()
    const again = setup(first.dir)
    expect(again.aside.list().map((e) => [e.peer, e.name, e.code])).toEqual([
      ['A', 'a.txt', 'ERR_NO_SPACE'],
      ['C', 'c.txt', 'ERR_NO_SPACE'],
    ])
    again.aside.forgetPeer('A')
    expect(again.aside.list().map((e) => e.peer)).toEqual(['C'])
  })
})
