// The index's side of partial replication (--replicas), on a real index.db in a temp dir: each
// file's placement id and creator stored and loaded; every entry sent says whether this server
// holds it (`held`: live, with a fingerprint); what each peer announced holding (peer_files.held)
// and who holds a version; a local copy is only ever taken from a file held here; the same
// version stored again (restore) when only the holdings change.
import { describe, expect, it } from 'vitest'
import { openIndexDb } from '../../src/server/index/database.js'
import type { FileEntry, Fingerprint } from '../../src/server/index/entry.js'
import { FileIndex } from '../../src/server/index/file-index.js'
import { tempDir } from '../helpers/index.js'

const HASH_A = 'a'.repeat(64)
const HASH_B = 'b'.repeat(64)
const FP: Fingerprint = { size: 3, mtimeMs: 1_000, ino: 42 }

function entry(name: string, over: Partial<FileEntry> = {}): Omit<FileEntry, 'seq'> {
  return {
    name,
    size: 3,
    mtime: 1_000,
    hash: HASH_A,
    deleted: false,
    version: { A: 1 },
    origin: 'A',
    renamedFrom: null,
    ...over,
  }
}

function open() {
  const dir = tempDir('tandem-index-placement-')
  const db = openIndexDb(dir)
  return { index: new FileIndex(db), close: () => db.close(), dir, db }
}

describe('the index under partial replication', () => {
  it('stores and loads the file id and creator (get, since, after reopening)', () => {
    const { index, close, dir } = open()
    index.put([{ entry: entry('f.txt', { fileId: 'id-1', creator: 'A' }), fingerprint: FP }])
    index.put([{ entry: entry('old.txt'), fingerprint: FP }]) // indexed before file ids
    expect(index.get('f.txt')).toMatchObject({ fileId: 'id-1', creator: 'A' })
    expect(index.since(0, 10)[0]).toMatchObject({ fileId: 'id-1', creator: 'A' })
    expect(index.get('old.txt')?.fileId).toBeUndefined()
    index.markClean()
    close()
    const again = new FileIndex(openIndexDb(dir))
    expect(again.get('f.txt')).toMatchObject({ fileId: 'id-1', creator: 'A' })
  })

  it('says with each entry sent whether this server holds it', () => {
    const { index, close } = open()
    const told: FileEntry[] = []
    index.onStored((entries) => told.push(...entries))
    index.put([
      { entry: entry('here.txt'), fingerprint: FP },
      { entry: entry('elsewhere.txt'), fingerprint: null },
      { entry: entry('gone.txt', { hash: null, deleted: true, size: 0 }), fingerprint: null },
    ])
    const held = (list: FileEntry[]) => Object.fromEntries(list.map((e) => [e.name, e.held]))
    const expected = { 'here.txt': true, 'elsewhere.txt': false, 'gone.txt': false }
    expect(held(index.since(0, 10))).toEqual(expected)
    expect(held(told)).toEqual(expected)
    // A peer's `held` passed in is not taken for this server's.
    index.put([{ entry: { ...entry('relayed.txt'), held: true }, fingerprint: null }])
    expect(index.since(3, 10)[0]?.held).toBe(false)
    close()
  })

  it('counts and lists only held files where content is concerned', () => {
    const { index, close } = open()
    index.put([
      { entry: entry('here.txt', { fileId: 'h', creator: 'A' }), fingerprint: FP },
      { entry: entry('elsewhere.txt', { fileId: 'e', creator: 'B' }), fingerprint: null },
      { entry: entry('gone.txt', { hash: null, deleted: true, size: 0 }), fingerprint: null },
    ])
    expect(index.liveCount()).toBe(2)
    expect(index.heldCount()).toBe(1)
    // A local copy is taken only from a file that is on this disk.
    expect(index.byHash(HASH_A).map((e) => e.name)).toEqual(['here.txt'])
    const rows = index.placementRows().sort((a, b) => a.name.localeCompare(b.name))
    expect(rows).toEqual([
      { name: 'elsewhere.txt', hash: HASH_A, size: 3, fileId: 'e', creator: 'B', held: false },
      { name: 'here.txt', hash: HASH_A, size: 3, fileId: 'h', creator: 'A', held: true },
    ])
    close()
  })

  it('records what each peer holds; the holders of a version are those that hold that hash', () => {
    const { index, close } = open()
    const announced = (over: Partial<FileEntry>): FileEntry => ({
      ...entry('f.txt'),
      seq: 1,
      ...over,
    })
    index.recordHoldings('B', [announced({ held: true, fileId: 'id-1' })])
    index.recordHoldings('C', [announced({ held: false, fileId: 'id-1' })])
    index.recordHoldings('D', [announced({})]) // says nothing: a peer mirroring everything holds it
    index.recordHoldings('E', [announced({ hash: HASH_B })]) // another version
    expect(index.holdersOf('f.txt', HASH_A)).toEqual(['B', 'D'])
    expect(index.holdersOf('f.txt', HASH_B)).toEqual(['E'])
    // A copy dropped: the same entry again, not held.
    index.recordHoldings('B', [announced({ held: false })])
    expect(index.holdersOf('f.txt', HASH_A)).toEqual(['D'])
    // Deleted there: holds nothing.
    index.recordHoldings('D', [announced({ hash: null, deleted: true, size: 0, held: true })])
    expect(index.holdersOf('f.txt', HASH_A)).toEqual([])
    close()
  })

  it('restore stores the same version again with a new seq, holdings changed', () => {
    const { index, close } = open()
    const [first] = index.put([
      {
        entry: entry('f.txt', { fileId: 'id-1', creator: 'B', version: { B: 2 } }),
        fingerprint: null,
      },
    ])
    const told: FileEntry[] = []
    index.onStored((entries) => told.push(...entries))
    const again = index.restore(index.get('f.txt')!, FP)
    expect(again.seq).toBe(first!.seq + 1)
    expect(again).toMatchObject({ version: { B: 2 }, origin: 'A', fileId: 'id-1', held: true })
    expect(index.get('f.txt')).toMatchObject({ fingerprint: FP, version: { B: 2 }, seq: again.seq })
    expect(told.map((e) => [e.name, e.held])).toEqual([['f.txt', true]])
    expect(index.since(first!.seq, 10)).toHaveLength(1)
    index.restore(index.get('f.txt')!, null)
    expect(index.get('f.txt')?.fingerprint).toBeNull()
    expect(index.since(again.seq, 10)[0]?.held).toBe(false)
    close()
  })

  it('restoreDurably commits with synchronous = FULL, then goes back to NORMAL', () => {
    const { index, close, db } = open()
    index.put([{ entry: entry('f.txt', { fileId: 'id-1', creator: 'B' }), fingerprint: FP }])
    const seen: number[] = []
    // The level in force while the transaction commits: read by a listener, told inside put.
    index.onStored(() => seen.push(db.pragma('synchronous', { simple: true }) as number))
    index.restoreDurably(index.get('f.txt')!, null)
    expect(seen).toEqual([2]) // FULL
    expect(db.pragma('synchronous', { simple: true })).toBe(1) // NORMAL again
    expect(index.get('f.txt')?.fingerprint).toBeNull()
    close()
  })
})
