// Review of issue 13 (server sync side): a client's folder rename of a file this member does not
// hold (known here, held elsewhere) is recorded by the scanner in the index only: the new name
// with the file's content and id, and a tombstone at the old name (Scanner #movedElsewhere). When
// the index holds a live entry at the new name by the time the scanner looks — a peer's file of
// that name recorded by the applier right after the folder operation let its locks go, or while
// the scanner was busy with an earlier batch — only the tombstone is recorded. Every holder then
// deletes the file, and no entry anywhere names its content: the moved file is gone from the
// cluster. (In full mirroring the file is on this disk at its new name, and the two versions of
// the new name meet as a conflict: both kept.)
//
// Since the fix, the scanner stores the pair (moved entry and tombstone, one transaction) when it
// is told, while the folder operation still holds the write locks of both names, and the client
// is answered only after that: no applier write can come between the told rename and its record
// any more, and a peer's later file at the new name meets the moved entry as a version (a
// conflict, both kept). What is left of the window is a new name already live when the rename is
// told (ops refuses that, but the scanner must not lose the file if it happens): the moved
// version then goes to the conflict copy's name.
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
  function setUp() {
    const base = tempDir('tandem-review-i13-a-moved-')
    fs.mkdirSync(`${base}/root`)
    const db = openIndexDb(`${base}/state`)
    const index = new FileIndex(db)
    const warnings: string[] = []
    const scanner = new Scanner({
      root: `${base}/root`,
      index,
      self: 'A',
      busy: { has: () => false },
      refuse: () => undefined,
      warn: (message) => warnings.push(message),
      now: () => Date.now() + 1_000,
    })
    // old/report.txt is held at B and C, not here.
    index.put([elsewhere('old/report.txt', 'the report')])
    const liveWithMoved = () =>
      index
        .live()
        .map((e) => index.get(e.name)!)
        .filter((e) => e.hash === sha256('the report'))
        .map((e) => e.name)
    return { db, index, scanner, warnings, liveWithMoved }
  }

  it('records the pair when told, before the locks go (no applier write can come between)', () => {
    const { db, index, scanner, liveWithMoved } = setUp()
    try {
      // A client's `mv old new` here: ops/folders.ts tells the scanner first (treeChange) and
      // waits for the answer, still holding both names' write locks.
      scanner.expect({ kind: 'rename', pairs: [{ from: 'old/report.txt', to: 'new/report.txt' }] })
      // Stored at once, both halves: an applier's later entry for new/report.txt (C made one at
      // the same moment) finds a version there, not an empty name.
      const moved = index.get('new/report.txt')
      expect(moved?.hash).toBe(sha256('the report'))
      expect(moved?.renamedFrom).toBe('old/report.txt')
      expect(moved?.fileId).toBe('id-oldreporttxt')
      expect(moved?.fingerprint).toBeNull()
      expect(index.get('old/report.txt')?.deleted).toBe(true)
      expect(liveWithMoved()).toEqual(['new/report.txt'])
    } finally {
      scanner.stop()
      db.close()
    }
  })

  it('keeps the moved content as a conflict copy when the new name is live already', async () => {
    const { db, index, scanner, warnings, liveWithMoved } = setUp()
    try {
      // A peer's own new/report.txt (C made one; not held here either), recorded before the told
      // rename reached the scanner.
      index.put([
        elsewhere('new/report.txt', "C's other report", {
          version: { C: 1 },
          origin: 'C',
          fileId: 'id-c',
          creator: 'C',
        }),
      ])
      scanner.expect({ kind: 'rename', pairs: [{ from: 'old/report.txt', to: 'new/report.txt' }] })
      await waitFor(() => index.get('old/report.txt')?.deleted === true, {
        what: 'the old name recorded as deleted',
      })
      await scanner.scanNow(['new/report.txt', 'new', 'old'])
      // The moved file's content must still be named by some live entry (a conflict copy), else
      // its holders delete the one version the user moved; C's file stays as it was.
      const names = liveWithMoved()
      expect(names, 'live names with the moved content').toHaveLength(1)
      expect(names[0]).toMatch(/^new\/report\.sync-conflict-\d{8}-\d{6}-A\.txt$/)
      expect(index.get(names[0]!)?.renamedFrom).toBe('old/report.txt')
      expect(index.get('new/report.txt')?.hash).toBe(sha256("C's other report"))
      expect(warnings.join('\n')).toContain("'new/report.txt' is taken")
    } finally {
      scanner.stop()
      db.close()
    }
  })
})
