// The scanner under partial replication (--replicas), on real files and a real index.db in a temp
// dir: a new file gets a placement id and this server as its creator, kept by its new versions and
// by a rename; a file known here but held elsewhere (a live entry without a fingerprint) is no
// change while it is absent, and is held again (the same version, announced anew) when it appears
// with that content; the emptied-directory checks count held files only; a client's folder delete
// or rename of files held elsewhere is recorded in the index only.
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { openIndexDb } from '../../src/server/index/database.js'
import type { FileEntry } from '../../src/server/index/entry.js'
import { FileIndex } from '../../src/server/index/file-index.js'
import { Scanner } from '../../src/server/watch/scanner.js'
import { tempDir } from '../helpers/index.js'
import { scannerHarness } from '../helpers/scanner-harness.js'

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

const setup = () => scannerHarness('tandem-scanner-placement-')

/** A peer's version of `name` recorded here without its content (held elsewhere). */
function elsewhere(name: string, text: string, over: Partial<FileEntry> = {}) {
  return {
    entry: {
      name,
      size: Buffer.byteLength(text),
      mtime: 1_700_000_000_000,
      hash: sha256(text),
      deleted: false,
      version: { B: 1 },
      origin: 'B',
      renamedFrom: null,
      fileId: `id-${name.replace(/\W/g, '')}`,
      creator: 'B',
      ...over,
    },
    fingerprint: null,
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('placement ids', () => {
  it('a new file gets an id and this server as creator; new versions and renames keep them', async () => {
    const { root, index, scanner, close } = setup()
    fs.writeFileSync(`${root}/a.txt`, 'one')
    fs.writeFileSync(`${root}/b.txt`, 'two')
    await scanner.scanNow([''])
    const a = index.get('a.txt')!
    const b = index.get('b.txt')!
    expect(a.fileId).toMatch(/^[A-Za-z0-9_-]{22}$/)
    // Computed, not drawn: any member or client gets the same from the creator and the name.
    expect(a.fileId).toBe(createHash('sha256').update('A\0a.txt').digest('base64url').slice(0, 22))
    expect(a.creator).toBe('A')
    expect(b.fileId).not.toBe(a.fileId)

    fs.writeFileSync(`${root}/a.txt`, 'one, longer')
    await scanner.scanNow(['a.txt'])
    expect(index.get('a.txt')).toMatchObject({ fileId: a.fileId, creator: 'A', version: { A: 2 } })

    fs.mkdirSync(`${root}/sub`)
    fs.renameSync(`${root}/b.txt`, `${root}/sub/b.txt`)
    await scanner.scanNow(['b.txt', 'sub/b.txt'])
    await sleep(30) // past the short wait for a rename's other half
    await scanner.scanNow(['b.txt', 'sub/b.txt'])
    expect(index.get('sub/b.txt')).toMatchObject({
      fileId: b.fileId,
      creator: 'A',
      renamedFrom: 'b.txt',
    })
    expect(index.get('b.txt')?.deleted).toBe(true)

    // A name deleted and made again at the same server: the same id (it is computed from the
    // creator and the name), a new version line.
    fs.rmSync(`${root}/a.txt`)
    await scanner.scanNow(['a.txt'])
    await sleep(30)
    await scanner.scanNow(['a.txt'])
    expect(index.get('a.txt')?.deleted).toBe(true)
    fs.writeFileSync(`${root}/a.txt`, 'three')
    await scanner.scanNow(['a.txt'])
    expect(index.get('a.txt')).toMatchObject({ fileId: a.fileId, version: { A: 4 } })
    close()
  })

  it("a peer's file id is kept by a version made here", async () => {
    const { root, index, scanner, close } = setup()
    fs.writeFileSync(`${root}/p.txt`, 'from B')
    await scanner.scanNow(['p.txt'])
    const fp = index.get('p.txt')!.fingerprint
    index.put([{ ...elsewhere('p.txt', 'from B'), fingerprint: fp }])
    fs.writeFileSync(`${root}/p.txt`, 'edited at A')
    await scanner.scanNow(['p.txt'])
    expect(index.get('p.txt')).toMatchObject({ fileId: 'id-ptxt', creator: 'B', origin: 'A' })
    close()
  })
})

describe('files held elsewhere', () => {
  it('absent from this disk is no change: no tombstone, through scans, the inventory and a rescan', async () => {
    const { index, scanner, close } = setup()
    index.put([elsewhere('far.txt', 'far'), elsewhere('d/deep.txt', 'deep')])
    const seq = index.seq
    await scanner.inventory()
    await scanner.scanNow(['far.txt', 'd', 'd/deep.txt', ''])
    await sleep(30) // past the grace a vanished file waits
    await scanner.scanNow(['far.txt', 'd/deep.txt', ''])
    expect(index.seq).toBe(seq)
    expect(index.get('far.txt')?.deleted).toBe(false)
    close()
  })

  it('appearing with the same content: held from now on, the same version announced again', async () => {
    const { root, index, scanner, close } = setup()
    index.put([elsewhere('far.txt', 'far')])
    const before = index.get('far.txt')!
    fs.writeFileSync(`${root}/far.txt`, 'far')
    await scanner.scanNow(['far.txt'])
    const after = index.get('far.txt')!
    expect(after.fingerprint).not.toBeNull()
    expect(after.version).toEqual(before.version)
    expect(after.origin).toBe('B')
    expect(after.seq).toBeGreaterThan(before.seq)
    expect(index.since(before.seq, 10)).toMatchObject([{ name: 'far.txt', held: true }])
    close()
  })

  it('appearing with other content: a new version of it, made here', async () => {
    const { root, index, scanner, close } = setup()
    index.put([elsewhere('far.txt', 'far')])
    fs.writeFileSync(`${root}/far.txt`, 'something else')
    await scanner.scanNow(['far.txt'])
    expect(index.get('far.txt')).toMatchObject({
      hash: sha256('something else'),
      version: { A: 1, B: 1 },
      origin: 'A',
      fileId: 'id-fartxt',
    })
    expect(index.get('far.txt')?.fingerprint).not.toBeNull()
    close()
  })

  it('a member holding none of 40 files is not an emptied directory; holding 40 and losing them is', async () => {
    const { root, index, scanner, refused, close } = setup()
    index.put(Array.from({ length: 40 }, (_, i) => elsewhere(`f${i}.txt`, `f${i}`)))
    expect(await scanner.emptied()).toBeNull()
    fs.writeFileSync(`${root}/mine.txt`, 'mine')
    await scanner.scanNow(['mine.txt'])
    expect(await scanner.emptied()).toBeNull()

    const other = setup()
    for (let i = 0; i < 40; i++) fs.writeFileSync(`${other.root}/g${i}.txt`, `g${i}`)
    await other.scanner.scanNow([''])
    for (let i = 0; i < 40; i++) fs.rmSync(`${other.root}/g${i}.txt`)
    expect((await other.scanner.emptied())?.reason).toMatch(
      /holds 0 file\(s\), but the index lists 40/,
    )
    expect(refused).toEqual([])
    other.close()
    close()
  })

  it("a client's folder delete of files held elsewhere: tombstones in the index only", async () => {
    const { root, index, scanner, refused, close } = setup()
    index.put(Array.from({ length: 25 }, (_, i) => elsewhere(`d/f${i}.txt`, `f${i}`)))
    fs.mkdirSync(`${root}/d`)
    fs.writeFileSync(`${root}/d/here.txt`, 'here')
    await scanner.scanNow(['d/here.txt'])
    const names = [...Array.from({ length: 25 }, (_, i) => `d/f${i}.txt`), 'd/here.txt']
    scanner.expect({ kind: 'delete', names })
    fs.rmSync(`${root}/d`, { recursive: true })
    await scanner.scanNow(['d'])
    for (const name of names) expect(index.get(name)?.deleted, name).toBe(true)
    expect(index.get('d/f3.txt')?.version).toEqual({ A: 1, B: 1 })
    expect(refused).toEqual([])
    close()
  })

  it("a client's folder rename of files held elsewhere: each pair recorded, no fingerprint, same id", async () => {
    const { index, scanner, close } = setup()
    index.put(Array.from({ length: 3 }, (_, i) => elsewhere(`old/f${i}.txt`, `f${i}`)))
    const seq = index.seq
    scanner.expect({
      kind: 'rename',
      pairs: [0, 1, 2].map((i) => ({ from: `old/f${i}.txt`, to: `new/f${i}.txt` })),
    })
    // Nothing on this disk changes for them: the scanner looks at them by itself.
    const deadline = Date.now() + 5_000
    while (index.since(seq, 10).length < 6 && Date.now() < deadline) await sleep(5)
    const entries = index.since(seq, 10)
    expect(entries.map((e) => [e.name, e.deleted])).toEqual([
      ['new/f0.txt', false],
      ['old/f0.txt', true],
      ['new/f1.txt', false],
      ['old/f1.txt', true],
      ['new/f2.txt', false],
      ['old/f2.txt', true],
    ])
    expect(index.get('new/f1.txt')).toMatchObject({
      hash: sha256('f1'),
      fileId: 'id-oldf1txt',
      creator: 'B',
      renamedFrom: 'old/f1.txt',
      fingerprint: null,
    })
    expect(entries[0]?.held).toBe(false)
    close()
  })

  it("a client's told folder change of files held elsewhere is its own: no local-change once its notice is in", async () => {
    const base = tempDir('tandem-scanner-placement-')
    fs.mkdirSync(`${base}/root`)
    const db = openIndexDb(`${base}/state`)
    const index = new FileIndex(db)
    const reported: string[] = []
    let release: (() => void) | undefined
    const locked = new Promise<void>((resolve) => (release = resolve))
    const scanner = new Scanner({
      root: `${base}/root`,
      index,
      self: 'A',
      busy: { has: () => false },
      refuse: () => undefined,
      warn: () => undefined,
      // The read locks wait for the client's write locks: its notice is in when they are granted.
      confirm: async () => {
        await locked
        return () => undefined
      },
      localChange: (c) => reported.push(`${c.what} ${c.name}`),
      now: () => Date.now() + 1_000,
    })
    try {
      index.put([elsewhere('d/gone.txt', 'g'), elsewhere('e/moved.txt', 'm')])
      scanner.expect({ kind: 'delete', names: ['d/gone.txt'] })
      scanner.expect({ kind: 'rename', pairs: [{ from: 'e/moved.txt', to: 'e2/moved.txt' }] })
      // Recorded when told, before the client's notice.
      expect(index.get('d/gone.txt')?.deleted).toBe(true)
      expect(index.get('e2/moved.txt')?.renamedFrom).toBe('e/moved.txt')
      // The operation lets its locks go, with its notice (nothing at any of the names).
      scanner.wrote(
        ['d', 'd/gone.txt', 'e', 'e2', 'e/moved.txt', 'e2/moved.txt'].map((name) => ({
          name,
          identity: null,
        })),
      )
      release!()
      await sleep(50)
      expect(reported).toEqual([])
    } finally {
      scanner.stop()
      db.close()
    }
  })

  it('a told rename whose moved entry cannot be stored yet (new name busy) keeps its old name too', async () => {
    const base = tempDir('tandem-scanner-placement-')
    fs.mkdirSync(`${base}/root/old`, { recursive: true })
    const db = openIndexDb(`${base}/state`)
    const index = new FileIndex(db)
    const busy = new Set<string>()
    const scanner = new Scanner({
      root: `${base}/root`,
      index,
      self: 'A',
      busy,
      refuse: () => undefined,
      warn: () => undefined,
      now: () => Date.now() + 1_000,
    })
    try {
      fs.writeFileSync(`${base}/root/old/x.txt`, 'x')
      await scanner.scanNow(['old/x.txt'])
      // Held here when told; its copy dropped before the scanner's batch (the file is gone from
      // this disk, held elsewhere now), while the applier is busy at the new name.
      scanner.expect({ kind: 'rename', pairs: [{ from: 'old/x.txt', to: 'new/x.txt' }] })
      const { fingerprint, ...entry } = index.get('old/x.txt')!
      expect(fingerprint).not.toBeNull()
      index.restore(entry, null)
      fs.rmSync(`${base}/root/old/x.txt`)
      busy.add('new/x.txt')
      await scanner.scanNow(['old/x.txt'])
      // Neither half stored: the old name is not deleted without its moved entry.
      expect(index.get('old/x.txt')?.deleted).toBe(false)
      expect(index.get('new/x.txt')).toBeUndefined()
      busy.delete('new/x.txt')
      await scanner.scanNow(['old/x.txt'])
      expect(index.get('old/x.txt')?.deleted).toBe(true)
      expect(index.get('new/x.txt')).toMatchObject({ hash: sha256('x'), renamedFrom: 'old/x.txt' })
    } finally {
      scanner.stop()
      db.close()
    }
  })
})
