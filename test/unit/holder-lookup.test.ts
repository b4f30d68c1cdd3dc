// The index queries behind ERR_MOVED (index/holder-lookup.ts), on a real index.db made by the
// migrations: a live row with no fingerprint is held elsewhere, its holders are the peers whose
// announced copy is that same version and held, reached at the addresses the members table
// keeps: those up now first, then those known down, each the most recently seen first.
import { describe, expect, it } from 'vitest'
import { openIndexDb } from '../../src/server/index/database.js'
import { heldElsewhere, notHeldUnder } from '../../src/server/index/holder-lookup.js'
import { registerCleanup, tempDir } from '../helpers/index.js'

const H1 = 'a'.repeat(64)
const H2 = 'b'.repeat(64)

function index() {
  const stateDir = tempDir('tandem-holders-')
  const db = openIndexDb(stateDir)
  registerCleanup(() => void db.close())
  let seq = 0
  const file = (name: string, hash: string | null, opts: { held: boolean; deleted?: boolean }) =>
    db
      .prepare(
        `INSERT OR REPLACE INTO files (name, size, mtime, hash, deleted, version, origin, seq,
           fp_size, fp_mtime, fp_ino) VALUES (?, 5, 1000, ?, ?, '{}', 'B', ?, ?, ?, ?)`,
      )
      .run(
        name,
        hash,
        opts.deleted ? 1 : 0,
        ++seq,
        ...(opts.held ? [5, 1000, 42] : [null, null, null]),
      )
  const peerFile = (peer: string, name: string, hash: string, held = true, deleted = false) =>
    db
      .prepare(
        `INSERT OR REPLACE INTO peer_files (peer, name, size, mtime, hash, deleted, held)
         VALUES (?, ?, 5, 1000, ?, ?, ?)`,
      )
      .run(peer, name, hash, deleted ? 1 : 0, held ? 1 : 0)
  const member = (
    name: string,
    address: string,
    http: string | null,
    lastUp: number | null,
    up = true,
  ) =>
    db
      .prepare(
        'INSERT OR REPLACE INTO members (name, address, http, capacity, last_up, up) VALUES (?, ?, ?, 10, ?, ?)',
      )
      .run(name, address, http, lastUp, up ? 1 : 0)
  return { stateDir, file, peerFile, member }
}

describe('heldElsewhere', () => {
  it('names the peers that hold the same version, up ones first, with their addresses', () => {
    const ix = index()
    ix.file('far.txt', H1, { held: false })
    ix.peerFile('B', 'far.txt', H1)
    ix.peerFile('C', 'far.txt', H1)
    ix.peerFile('G', 'far.txt', H1)
    ix.peerFile('H', 'far.txt', H1)
    ix.peerFile('D', 'far.txt', H1, false) // knows of it, holds no copy
    ix.peerFile('E', 'far.txt', H2) // another version
    ix.peerFile('F', 'far.txt', H1, true, true) // deleted there
    ix.member('B', '127.0.0.1:9002', '127.0.0.1:9082', 1_000)
    ix.member('C', '127.0.0.1:9003', null, 2_000)
    for (const m of ['D', 'E', 'F']) ix.member(m, '127.0.0.1:9009', null, 3_000)
    // Down: seen more recently than B and C (their links went down after B's and C's came up).
    ix.member('G', '127.0.0.1:9007', '127.0.0.1:9087', 4_000, false)
    ix.member('H', '127.0.0.1:9008', null, 5_000, false)
    expect(heldElsewhere(ix.stateDir, 'far.txt')).toEqual([
      { name: 'C', address: '127.0.0.1:9003', up: true },
      { name: 'B', address: '127.0.0.1:9002', http: '127.0.0.1:9082', up: true },
      { name: 'H', address: '127.0.0.1:9008', up: false },
      { name: 'G', address: '127.0.0.1:9007', http: '127.0.0.1:9087', up: false },
    ])
  })

  it('a file held here, deleted, or unknown is not held elsewhere', () => {
    const ix = index()
    ix.file('here.txt', H1, { held: true })
    ix.file('gone.txt', H1, { held: false, deleted: true })
    ix.peerFile('B', 'here.txt', H1)
    ix.member('B', '127.0.0.1:9002', null, 1)
    expect(heldElsewhere(ix.stateDir, 'here.txt')).toBeUndefined()
    expect(heldElsewhere(ix.stateDir, 'gone.txt')).toBeUndefined()
    expect(heldElsewhere(ix.stateDir, 'never.txt')).toBeUndefined()
  })

  it('a holder whose address is not known is left out: none left, an empty list', () => {
    const ix = index()
    ix.file('far.txt', H1, { held: false })
    ix.peerFile('B', 'far.txt', H1)
    expect(heldElsewhere(ix.stateDir, 'far.txt')).toEqual([])
  })
})

describe('notHeldUnder', () => {
  it('the live names below a folder with no copy here, sorted; the root has all of them', () => {
    const ix = index()
    ix.file('d/b.txt', H1, { held: false })
    ix.file('d/a/deep.txt', H1, { held: false })
    ix.file('d/here.txt', H1, { held: true })
    ix.file('d/gone.txt', H1, { held: false, deleted: true })
    ix.file('d2/other.txt', H1, { held: false }) // a sibling whose name starts the same
    ix.file('top.txt', H1, { held: false })
    expect(notHeldUnder(ix.stateDir, 'd')).toEqual(['d/a/deep.txt', 'd/b.txt'])
    expect(notHeldUnder(ix.stateDir, '')).toEqual([
      'd/a/deep.txt',
      'd/b.txt',
      'd2/other.txt',
      'top.txt',
    ])
    expect(notHeldUnder(ix.stateDir, 'none')).toEqual([])
  })
})
