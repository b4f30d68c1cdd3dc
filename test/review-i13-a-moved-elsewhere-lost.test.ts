// Review of issue 13 (server sync side): a client's folder rename of a file this member does not
// hold (known here, held elsewhere) is recorded by the scanner in the index only: the new name
// with the file's content and id, and a tombstone at the old name (Scanner #movedElsewhere). When
// the index holds a live entry at the new name by the time the scanner looks — a peer's file of
// that name recorded by the applier right after the folder operation let its locks go, or while
// the scanner was busy with an earlier batch — only the tombstone is recorded. Every holder then
// deletes the file, and no entry anywhere names its content: the moved file is gone from the
// cluster. (In full mirroring the file is on this disk at its new name, and the two versions of
// the new name meet as a conflict: both kept.)
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { openIndexDb } from '../src/server/index/database.js'
import type { FileEntry } from '../src/server/index/entry.js'
import { FileIndex } from '../src/server/index/file-index.js'
import { Scanner } from '../src/server/watch/scanner.js'
import { tempDir, waitFor } from './helpers/index.js'

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

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

describe('review i13-a: a folder rename of a file held elsewhere', () => {
  it('keeps the moved content in the index when the new name got an entry meanwhile', async () => {
    const base = tempDir('tandem-review-i13-a-moved-')
    fs.mkdirSync(`${base}/root`)
    const db = openIndexDb(`${base}/state`)
    const index = new FileIndex(db)
    const scanner = new Scanner({
      root: `${base}/root`,
      index,
      self: 'A',
      busy: { has: () => false },
      refuse: () => undefined,
      warn: () => undefined,
      now: () => Date.now() + 1_000,
    })
    try {
      // old/report.txt is held at B and C, not here.
      index.put([elsewhere('old/report.txt', 'the report')])
      // A client's `mv old new` here: ops/folders.ts tells the scanner first (treeChange) ...
      scanner.expect({ kind: 'rename', pairs: [{ from: 'old/report.txt', to: 'new/report.txt' }] })
      // ... and once it lets the locks go, the applier records a peer's own new/report.txt (C made
      // one at the same moment; it is not held here either) before the scanner's batch runs.
      index.put([
        elsewhere('new/report.txt', "C's other report", {
          version: { C: 1 },
          origin: 'C',
          fileId: 'id-c',
          creator: 'C',
        }),
      ])
      await waitFor(() => index.get('old/report.txt')?.deleted === true, {
        what: 'the old name recorded as deleted',
      })
      await scanner.scanNow(['new/report.txt'])
      // The moved file's content must still be named by some live entry (the new name, or a
      // conflict copy), else its holders delete the one version the user moved.
      const live = index.live().map((e) => index.get(e.name)!)
      expect(
        live.filter((e) => e.hash === sha256('the report')).map((e) => e.name),
        'live names with the moved content',
      ).not.toEqual([])
    } finally {
      scanner.stop()
      db.close()
    }
  })
})
