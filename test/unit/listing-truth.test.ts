// The composite listing tells the truth about copies and symlinks, through the operations layer
// in-process (real file store on a temp root; the sync worker's index as in-memory data).
import { mkdirSync, symlinkSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { list, stat } from '../../src/server/ops/listing.js'
import { tempDir } from '../helpers/index.js'
import { createOpsHarness, sha256Hex } from '../helpers/ops-harness.js'

const T = 1_764_597_600_000

describe('copies that differ', () => {
  it('the same content at a peer (same SHA-256) is one version, whatever the times', async () => {
    const h = createOpsHarness()
    h.writeFile('same.txt', 'one\n', T)
    h.setKnownHash('same.txt', sha256Hex('one\n'))
    h.peerHolds('B', 'same.txt', 4, T + 5_000, sha256Hex('one\n'))
    const [row] = (await list(h.context())).files
    expect(row).toMatchObject({ servers: ['A', 'B'], differs: false })
    expect(row).not.toHaveProperty('copies')
  })

  it('another SHA-256 at a peer differs, with each server’s copy', async () => {
    const h = createOpsHarness()
    h.writeFile('plan.txt', 'v1\n', T)
    h.setKnownHash('plan.txt', sha256Hex('v1\n'))
    h.peerHolds('B', 'plan.txt', 3, T + 60_000, sha256Hex('v2\n'))
    h.peerHolds('C', 'plan.txt', 3, T, sha256Hex('v1\n'))
    const [row] = (await list(h.context())).files
    expect(row).toMatchObject({ servers: ['A', 'B', 'C'], differs: true, size: 3, mtime: T })
    expect(row!.copies).toEqual([
      { server: 'A', size: 3, mtime: T, sha256: sha256Hex('v1\n') },
      { server: 'B', size: 3, mtime: T + 60_000, sha256: sha256Hex('v2\n') },
      { server: 'C', size: 3, mtime: T, sha256: sha256Hex('v1\n') },
    ])
    // stat gives the same row.
    expect(await stat(h.context(), { name: 'plan.txt' })).toMatchObject({ differs: true })
  })

  it('without a known hash here (changed since indexed), size and mtime decide', async () => {
    const h = createOpsHarness()
    h.writeFile('same.txt', 'one\n', T)
    h.writeFile('grown.txt', 'one more\n', T)
    h.peerHolds('B', 'same.txt', 4, T, sha256Hex('one\n'))
    h.peerHolds('B', 'grown.txt', 4, T, sha256Hex('one\n'))
    const rows = (await list(h.context())).files
    expect(rows.map((r) => [r.name, r.differs])).toEqual([
      ['grown.txt', true],
      ['same.txt', false],
    ])
    expect(rows[0]!.copies).toEqual([
      { server: 'A', size: 9, mtime: T },
      { server: 'B', size: 4, mtime: T, sha256: sha256Hex('one\n') },
    ])
  })

  it('copies are compared pairwise: two peers’ hashes differ though both match this disk', async () => {
    const h = createOpsHarness()
    h.writeFile('mixed.txt', 'one\n', T) // no known hash here: size and mtime match both
    h.peerHolds('B', 'mixed.txt', 4, T, sha256Hex('one\n'))
    h.peerHolds('C', 'mixed.txt', 4, T, sha256Hex('two\n'))
    const [row] = (await list(h.context())).files
    expect(row).toMatchObject({ differs: true })
    expect(row!.copies?.map((c) => c.server)).toEqual(['A', 'B', 'C'])
  })

  it('a file only peers hold: their copies are compared, the row shows the newest', async () => {
    const h = createOpsHarness()
    h.peerHolds('B', 'far.txt', 3, T, sha256Hex('old'))
    h.peerHolds('C', 'far.txt', 5, T + 1_000, sha256Hex('newer'))
    h.peerHolds('B', 'agreed.txt', 3, T, sha256Hex('old'))
    h.peerHolds('C', 'agreed.txt', 3, T, sha256Hex('old'))
    const rows = (await list(h.context())).files
    expect(rows.map((r) => [r.name, r.servers, r.differs, r.size])).toEqual([
      ['agreed.txt', ['B', 'C'], false, 3],
      ['far.txt', ['B', 'C'], true, 5],
    ])
  })

  it('a file on one server only never differs', async () => {
    const h = createOpsHarness()
    h.writeFile('mine.txt', 'x')
    h.peerHolds('B', 'theirs.txt', 1, T, sha256Hex('y'))
    const rows = (await list(h.context())).files
    expect(rows.map((r) => [r.name, r.differs, r.copies])).toEqual([
      ['mine.txt', false, undefined],
      ['theirs.txt', false, undefined],
    ])
  })
})

describe('symlinks are listed as symlinks (they are never mirrored)', () => {
  it('to a file inside, to a folder inside, out of the root, dangling: each a symlink row', async () => {
    const h = createOpsHarness()
    const outside = tempDir('tandem-outside-')
    h.writeFile('real.txt', 'real content\n')
    mkdirSync(path.join(h.root, 'folder'))
    h.writeFile('folder/in.txt', 'in')
    symlinkSync('real.txt', path.join(h.root, 'to-file'))
    symlinkSync('folder', path.join(h.root, 'to-folder'))
    symlinkSync(outside, path.join(h.root, 'to-outside'))
    symlinkSync('nowhere.txt', path.join(h.root, 'dangling'))
    const rows = (await list(h.context())).files
    expect(rows.map((r) => [r.name, r.kind ?? 'file', r.size, r.servers])).toEqual([
      ['dangling', 'symlink', 0, ['A']],
      ['folder/in.txt', 'file', 2, ['A']],
      ['real.txt', 'file', 13, ['A']],
      ['to-file', 'symlink', 0, ['A']],
      ['to-folder', 'symlink', 0, ['A']],
      ['to-outside', 'symlink', 0, ['A']],
    ])
    // Nothing behind a linked folder is listed (it would be listed twice, or leave the root).
    expect(rows.some((r) => r.name.startsWith('to-folder/'))).toBe(false)
    expect(rows.every((r) => !r.differs)).toBe(true)
  })

  it('a symlink here where a peer holds a file: the row is the link, the copies differ', async () => {
    const h = createOpsHarness()
    h.writeFile('target.txt', 'target\n')
    symlinkSync('target.txt', path.join(h.root, 'x.txt'))
    h.peerHolds('B', 'x.txt', 20, T, sha256Hex('a regular file on B\n'))
    const row = (await list(h.context())).files.find((r) => r.name === 'x.txt')
    expect(row).toMatchObject({ kind: 'symlink', servers: ['A'], differs: true, size: 0 })
    expect(row!.copies).toEqual([
      { server: 'A', size: 0, mtime: expect.any(Number), symlink: true },
      { server: 'B', size: 20, mtime: T, sha256: sha256Hex('a regular file on B\n') },
    ])
  })
})
