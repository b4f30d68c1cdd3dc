// A small version fetched from a peer (at most SMALL_BODY_BYTES) is held in memory whole and
// written in one go once its size and SHA-256 are checked (content-source.ts, small-file.ts):
// nothing is on the disk while it arrives, a corrupt one leaves nothing there, and the sealed
// temp file is fsynced beside its target with the version's mtime, ready for the rename. A larger
// one still streams into a temp file.
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import type { FileEntry } from '../../src/server/index/entry.js'
import type { FileIndex } from '../../src/server/index/file-index.js'
import type { FileStore } from '../../src/server/storage/file-store.js'
import type { ResolvedName } from '../../src/server/storage/path-jail.js'
import { SMALL_BODY_BYTES, SmallFile } from '../../src/server/storage/small-file.js'
import { TempFile } from '../../src/server/storage/temp-file.js'
import type { ContentSink } from '../../src/server/storage/sealed-file.js'
import { contentFor } from '../../src/server/sync/content-source.js'
import type { PeerSource } from '../../src/server/sync/peer-source.js'
import { tempDir } from '../helpers/index.js'

const noCopies = { byHash: () => [] } as unknown as FileIndex
const noStore = {} as FileStore

function setup() {
  const dir = tempDir('tandem-small-fetch-')
  const target = { name: 'f.bin', path: path.join(dir, 'f.bin') } as ResolvedName
  return { dir, target }
}

function entryOf(
  content: Buffer,
  hash = createHash('sha256').update(content).digest('hex'),
): FileEntry {
  return {
    name: 'f.bin',
    size: content.length,
    mtime: 1_700_000_000_123,
    hash,
    deleted: false,
    version: { A: 1 },
    origin: 'A',
    seq: 1,
  }
}

/** A peer that sends `content` in 1 KiB pieces, noting what it wrote into and what the folder held meanwhile. */
function peerSending(content: Buffer, dir: string) {
  const seen: { sink?: ContentSink; filesDuring?: string[] } = {}
  const peer: PeerSource = {
    name: 'A',
    async fetch(_name, _hash, size, sink) {
      seen.sink = sink
      for (let at = 0; at < content.length; at += 1024)
        await sink.write([content.subarray(at, at + 1024)])
      seen.filesDuring = readdirSync(dir)
      return { size, mtime: 0 }
    },
  }
  return { peer, seen }
}

describe('a small fetch from a peer', () => {
  it('is held in memory, then written whole: temp file beside the target, mtime set, published by rename', async () => {
    const { dir, target } = setup()
    const content = Buffer.alloc(SMALL_BODY_BYTES, 7)
    const { peer, seen } = peerSending(content, dir)
    const sealed = await contentFor(noCopies, noStore, peer, entryOf(content), target)
    expect(seen.sink).not.toBeInstanceOf(TempFile)
    expect(seen.filesDuring).toEqual([]) // no temp file while the body arrived
    expect(sealed).toBeInstanceOf(SmallFile)
    expect(path.dirname(sealed.path)).toBe(dir)
    expect(readFileSync(sealed.path).equals(content)).toBe(true)
    expect(statSync(sealed.path).mtimeMs).toBeCloseTo(1_700_000_000_123, 0)
    await sealed.publish(target.path)
    expect(readdirSync(dir)).toEqual(['f.bin'])
  })

  it('with the wrong SHA-256 is refused before anything touches the disk', async () => {
    const { dir, target } = setup()
    const content = Buffer.from('small and corrupt')
    const { peer } = peerSending(content, dir)
    await expect(
      contentFor(noCopies, noStore, peer, entryOf(content, 'a'.repeat(64)), target),
    ).rejects.toMatchObject({ code: 'ERR_INTEGRITY' })
    expect(readdirSync(dir)).toEqual([])
  })

  it('a larger one streams into a temp file', async () => {
    const { dir, target } = setup()
    const content = Buffer.alloc(SMALL_BODY_BYTES + 1, 3)
    const { peer, seen } = peerSending(content, dir)
    const sealed = await contentFor(noCopies, noStore, peer, entryOf(content), target)
    expect(seen.sink).toBeInstanceOf(TempFile)
    expect(seen.filesDuring).toHaveLength(1)
    expect(sealed).toBeInstanceOf(TempFile)
    await sealed.discard()
    expect(readdirSync(dir)).toEqual([])
  })
})
