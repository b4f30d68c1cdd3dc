// The applier under partial replication (--replicas), on a real data directory and index.db in a
// temp dir, the peers' content served from memory (no network): content is taken only where
// placement wants it or where the version it replaces is held; deletes, renames and conflicts of
// files held elsewhere touch no disk; content a peer only passed on comes from a member that holds
// it; the replication driver's takeCopy and dropCopy keep the index and the disk in step.
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { openIndexDb } from '../../src/server/index/database.js'
import type { FileEntry } from '../../src/server/index/entry.js'
import { FileIndex } from '../../src/server/index/file-index.js'
import { FileStore } from '../../src/server/storage/file-store.js'
import { TempFile } from '../../src/server/storage/temp-file.js'
import { Applier } from '../../src/server/sync/applier.js'
import { BusyNames } from '../../src/server/sync/busy-names.js'
import { Superseded } from '../../src/server/sync/content-client.js'
import type { PeerSource } from '../../src/server/sync/peer-source.js'
import { Scanner } from '../../src/server/watch/scanner.js'
import { tempDir, waitFor } from '../helpers/index.js'

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')
const T0 = 1_700_000_000_000

/** A peer that sends the contents it holds, by hash (ERR_NOT_FOUND for others, as a real one). */
function peer(name: string, texts: string[]): PeerSource & { fetched: number } {
  const byHash = new Map(texts.map((t) => [sha256(t), t]))
  const source = {
    name,
    fetched: 0,
    fetch: async (file: string, hash: string, _size: number, temp: TempFile) => {
      const text = byHash.get(hash)
      if (text === undefined)
        throw new Superseded('ERR_NOT_FOUND', `no current copy of '${file}' with that content`)
      source.fetched++
      await temp.write([Buffer.from(text)])
      return { size: Buffer.byteLength(text), mtime: T0 }
    },
  }
  return source
}

function version(
  name: string,
  vector: Record<string, number>,
  text: string | null,
  over: Partial<FileEntry> = {},
): FileEntry {
  return {
    name,
    size: text === null ? 0 : Buffer.byteLength(text),
    mtime: T0 + Object.values(vector).reduce((a, b) => a + b, 0),
    hash: text === null ? null : sha256(text),
    deleted: text === null,
    version: vector,
    origin: Object.keys(vector).at(-1)!,
    seq: 1,
    renamedFrom: null,
    fileId: `id-${name.replace(/\W/g, '')}`,
    creator: 'B',
    ...over,
  }
}

function setup(
  options: {
    wants?: (e: FileEntry) => boolean
    locked?: Set<string>
    enqueue?: (source: PeerSource, entry: FileEntry) => Promise<void>
  } = {},
) {
  const base = tempDir('tandem-applier-placement-')
  const root = `${base}/root`
  fs.mkdirSync(root)
  const db = openIndexDb(`${base}/state`)
  const index = new FileIndex(db)
  const busy = new BusyNames()
  const scanner = new Scanner({
    root,
    index,
    self: 'A',
    busy,
    refuse: () => undefined,
    warn: () => undefined,
    now: () => Date.now() + 1_000,
  })
  const sources = new Map<string, PeerSource>()
  const warnings: string[] = []
  const applier = new Applier({
    self: 'A',
    index,
    store: new FileStore(root),
    scanner,
    busy,
    lock: async () => () => undefined,
    rootPresent: async () => true,
    report: () => undefined,
    warn: (m) => warnings.push(m),
    ...(options.wants ? { placement: { wants: options.wants } } : {}),
    sourceFor: (name) => sources.get(name),
    ...(options.locked
      ? {
          held: {
            held: (name: string) => options.locked!.has(name),
            enqueue:
              options.enqueue ??
              (async () => {
                throw new Error('not queued in this test')
              }),
          },
        }
      : {}),
  })
  const read = (name: string) =>
    fs.existsSync(`${root}/${name}`) ? fs.readFileSync(`${root}/${name}`, 'utf8') : null
  const close = () => {
    scanner.stop()
    db.close()
  }
  return { root, index, scanner, applier, sources, read, warnings, close }
}

const nobody = () => false
const everything = () => true

describe('content only where placement wants it', () => {
  it('a new file not wanted here is recorded without content; a wanted one is taken', async () => {
    const { index, applier, read, close } = setup({ wants: (e) => e.name === 'wanted.txt' })
    const b = peer('B', ['far', 'near'])
    await applier.applyBatch(b, [
      version('far.txt', { B: 1 }, 'far'),
      version('wanted.txt', { B: 1 }, 'near'),
    ])
    expect(read('far.txt')).toBeNull()
    expect(index.get('far.txt')).toMatchObject({
      deleted: false,
      fingerprint: null,
      fileId: 'id-fartxt',
    })
    expect(read('wanted.txt')).toBe('near')
    expect(index.get('wanted.txt')?.fingerprint).not.toBeNull()
    expect(b.fetched).toBe(1)
    close()
  })

  it('a new version of a file held here is taken, even when not wanted (the driver moves it)', async () => {
    const { index, applier, read, close } = setup({ wants: nobody })
    const b = peer('B', ['v1', 'v2'])
    await applier.applyBatch(peer('B', ['v1']), [version('f.txt', { B: 1 }, 'v1')])
    expect(read('f.txt')).toBeNull() // not wanted, not held
    index.restore(index.get('f.txt')!, null)
    // Held here (as if a copy had been taken): its next version comes too.
    await applier.takeCopy(b, 'f.txt')
    expect(read('f.txt')).toBe('v1')
    await applier.applyBatch(b, [version('f.txt', { B: 2 }, 'v2')])
    expect(read('f.txt')).toBe('v2')
    expect(index.get('f.txt')).toMatchObject({ version: { B: 2 } })
    expect(index.get('f.txt')?.fingerprint).not.toBeNull()
    close()
  })

  it('without placement every file is taken (full mirroring)', async () => {
    const { applier, read, close } = setup()
    await applier.applyBatch(peer('B', ['x']), [version('x.txt', { B: 1 }, 'x')])
    expect(read('x.txt')).toBe('x')
    close()
  })

  it('delete and rename of files held elsewhere change the index only', async () => {
    const { index, applier, read, root, close } = setup({ wants: nobody })
    const b = peer('B', [])
    await applier.applyBatch(peer('B', ['one', 'two']), [
      version('one.txt', { B: 1 }, 'one'),
      version('two.txt', { B: 1 }, 'two'),
    ])
    await applier.applyBatch(b, [
      version('one.txt', { B: 2 }, null),
      version('moved/two.txt', { B: 3 }, 'two', { renamedFrom: 'two.txt', fileId: 'id-twotxt' }),
      version('two.txt', { B: 2 }, null),
    ])
    expect(index.get('one.txt')?.deleted).toBe(true)
    expect(index.get('two.txt')?.deleted).toBe(true)
    expect(index.get('moved/two.txt')).toMatchObject({
      deleted: false,
      fingerprint: null,
      fileId: 'id-twotxt',
    })
    expect(read('moved/two.txt')).toBeNull()
    expect(fs.readdirSync(root)).toEqual([])
    close()
  })

  it('a conflict whose local side is held elsewhere is left to its holders: nothing recorded here', async () => {
    const { index, applier, read, close } = setup({ wants: everything })
    const c = peer('C', ['from C'])
    // Known here, held elsewhere: B's version.
    index.put([{ entry: version('f.txt', { B: 1 }, 'from B'), fingerprint: null }])
    const before = index.get('f.txt')!
    await applier.applyBatch(c, [version('f.txt', { C: 1 }, 'from C', { mtime: T0 + 99 })])
    expect(index.get('f.txt')).toEqual(before)
    expect(read('f.txt')).toBeNull()
    expect(c.fetched).toBe(0)
    close()
  })

  it('a file here not indexed yet, where a file held elsewhere is recorded: scanned first, nothing hidden', async () => {
    const { index, applier, read, root, close } = setup({ wants: nobody })
    fs.writeFileSync(`${root}/f.txt`, 'made here')
    await applier.applyBatch(peer('B', ['from B']), [version('f.txt', { B: 1 }, 'from B')])
    // Scanned as a version of its own, then met B's as a conflict: both kept.
    expect(read('f.txt')).not.toBeNull()
    const names = fs.readdirSync(root).sort()
    expect(names.length).toBe(2)
    expect(names.some((n) => n.includes('sync-conflict'))).toBe(true)
    expect(index.get('f.txt')?.fingerprint).not.toBeNull()
    close()
  })
})

describe('content a peer only passed on', () => {
  it('comes from a member that announced it holds it', async () => {
    const { index, applier, sources, read, close } = setup({ wants: everything })
    const b = peer('B', []) // B passed C's file on without holding it
    const c = peer('C', ['from C'])
    sources.set('C', c)
    const e = version('f.txt', { C: 1 }, 'from C', { held: false })
    index.recordHoldings('C', [{ ...e, held: true }])
    index.recordHoldings('B', [e])
    await applier.applyBatch(b, [e])
    expect(read('f.txt')).toBe('from C')
    expect(c.fetched).toBe(1)
    close()
  })

  it('with no holder connected, is recorded without content (the driver fetches it later)', async () => {
    const { index, applier, read, close } = setup({ wants: everything })
    await applier.applyBatch(peer('B', []), [version('f.txt', { C: 1 }, 'from C', { held: false })])
    expect(read('f.txt')).toBeNull()
    expect(index.get('f.txt')).toMatchObject({ deleted: false, fingerprint: null })
    close()
  })

  it('a peer that holds the version it sent but has no copy now: skipped as before (it changed there)', async () => {
    const { index, applier, close } = setup({ wants: everything })
    await applier.applyBatch(peer('B', []), [version('f.txt', { B: 1 }, 'gone', { held: true })])
    expect(index.get('f.txt')).toBeUndefined()
    close()
  })
})

describe("the replication driver's copies", () => {
  it('takeCopy brings the indexed version here and says so; a second one is stale', async () => {
    const { index, applier, read, close } = setup({ wants: nobody })
    const b = peer('B', ['content'])
    await applier.applyBatch(b, [version('sub/f.txt', { B: 1 }, 'content')])
    const before = index.get('sub/f.txt')!
    expect(await applier.takeCopy(b, 'sub/f.txt')).toBe('taken')
    expect(read('sub/f.txt')).toBe('content')
    const after = index.get('sub/f.txt')!
    expect(after.version).toEqual(before.version)
    expect(after.seq).toBeGreaterThan(before.seq)
    expect(after.fingerprint).not.toBeNull()
    expect(index.since(before.seq, 10)).toMatchObject([{ name: 'sub/f.txt', held: true }])
    expect(await applier.takeCopy(b, 'sub/f.txt')).toBe('stale')
    expect(await applier.takeCopy(b, 'unknown.txt')).toBe('stale')
    close()
  })

  it('takeCopy from a member without that content: stale, nothing on disk', async () => {
    const { index, applier, read, root, close } = setup({ wants: nobody })
    index.put([{ entry: version('f.txt', { B: 1 }, 'content'), fingerprint: null }])
    expect(await applier.takeCopy(peer('C', []), 'f.txt')).toBe('stale')
    expect(read('f.txt')).toBeNull()
    expect(fs.readdirSync(root)).toEqual([]) // no temp file left
    close()
  })

  it('takeCopy never writes a version the peer changed: the SHA-256 is checked', async () => {
    const { index, applier, read, close } = setup({ wants: nobody })
    index.put([{ entry: version('f.txt', { B: 1 }, 'content'), fingerprint: null }])
    const liar: PeerSource = {
      name: 'C',
      fetch: async (_n, _h, _s, temp) => {
        await temp.write([Buffer.from('tnetnoc')])
        return { size: 7, mtime: T0 }
      },
    }
    expect(await applier.takeCopy(liar, 'f.txt')).toBe('stale')
    expect(read('f.txt')).toBeNull()
    close()
  })

  it('dropCopy removes the copy here and says so; the file stays known', async () => {
    const { index, applier, read, close } = setup({ wants: everything })
    await applier.applyBatch(peer('B', ['content']), [version('d/f.txt', { B: 1 }, 'content')])
    const before = index.get('d/f.txt')!
    expect(await applier.dropCopy('d/f.txt')).toBe('dropped')
    expect(read('d/f.txt')).toBeNull()
    const after = index.get('d/f.txt')!
    expect(after).toMatchObject({ deleted: false, fingerprint: null, version: before.version })
    expect(index.since(before.seq, 10)).toMatchObject([{ name: 'd/f.txt', held: false }])
    expect(await applier.dropCopy('d/f.txt')).toBe('stale')
    close()
  })

  it('dropCopy leaves a file changed on disk since indexed, and a user-locked one', async () => {
    const locked = new Set<string>()
    const { index, applier, read, root, close } = setup({ wants: everything, locked })
    await applier.applyBatch(peer('B', ['c', 'l']), [
      version('c.txt', { B: 1 }, 'c'),
      version('l.txt', { B: 1 }, 'l'),
    ])
    locked.add('l.txt')
    fs.writeFileSync(`${root}/c.txt`, 'edited here, not scanned yet')
    expect(await applier.dropCopy('c.txt')).toBe('stale')
    expect(read('c.txt')).toBe('edited here, not scanned yet')
    expect(await applier.dropCopy('l.txt')).toBe('stale')
    expect(read('l.txt')).toBe('l')
    expect(index.get('l.txt')?.fingerprint).not.toBeNull()
    close()
  })

  it("a user lock's queue keeps content a peer only passed on, from a member holding it", async () => {
    const locked = new Set<string>()
    const queued: string[] = []
    const base = tempDir('tandem-queue-')
    const { applier, sources, index, close } = setup({
      wants: everything,
      locked,
      enqueue: async (source, entry) => {
        const temp = await TempFile.create(`${base}/q`, entry.name)
        try {
          await source.fetch(entry.name, entry.hash!, entry.size, temp)
          await temp.seal({
            sha256: Buffer.from(entry.hash!, 'hex'),
            size: entry.size,
            mtimeMs: entry.mtime,
          })
          queued.push(`${source.name}:${fs.readFileSync(temp.path, 'utf8')}`)
        } finally {
          await temp.discard()
        }
      },
    })
    await applier.applyBatch(peer('C', ['v1']), [version('f.txt', { C: 1 }, 'v1')])
    locked.add('f.txt')
    const c = peer('C', ['v1', 'v2'])
    sources.set('C', c)
    const e = version('f.txt', { C: 2 }, 'v2', { held: false })
    index.recordHoldings('C', [{ ...e, held: true }])
    await applier.applyBatch(peer('B', []), [e])
    expect(queued).toEqual(['B:v2']) // queued as B's update, its content from C
    expect(c.fetched).toBe(1)
    close()
  })

  it('a conflict copy gets the same placement id on both sides of the conflict', async () => {
    const x = version('f.txt', { X: 1 }, 'from X')
    const y = version('f.txt', { Y: 1 }, 'from Y', { mtime: T0 + 50 })
    const copyOn = async (first: FileEntry, second: FileEntry) => {
      const { index, applier, root, close } = setup({ wants: everything })
      await applier.applyBatch(peer('P', ['from X', 'from Y']), [first])
      await applier.applyBatch(peer('P', ['from X', 'from Y']), [second])
      const copyName = fs.readdirSync(root).find((n) => n.includes('sync-conflict'))!
      const copy = await waitFor(() => index.get(copyName), { what: 'the copy indexed' })
      close()
      return { copyName, fileId: copy.fileId, creator: copy.creator }
    }
    const here = await copyOn(x, y) // X's version held here loses: moved to the copy
    const there = await copyOn(y, x) // X's version arrives and loses: fetched into the copy
    expect(here.copyName).toMatch(/^f\.sync-conflict-\d{8}-\d{6}-X\.txt$/)
    expect(there).toEqual(here)
    expect(here.creator).toBe('X')
    expect(here.fileId).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(here.fileId).not.toBe(x.fileId)
  })
})
