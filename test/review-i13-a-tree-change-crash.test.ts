// Review of issue 13 (server sync side): a client's `rm -r` (or folder `mv`) of a folder whose
// files are partly held elsewhere. ops/folders.ts tells the sync worker the names (treeChange),
// deletes the files on this disk, and answers the client ("N files deleted"). The files held
// elsewhere change nothing on this disk: only the scanner's in-memory `expected` set says they
// were deleted, and it records their tombstones a batch later. A kill -9 in between (the client
// already has its answer) loses that: at the next start the inventory records the files that
// left this disk as deleted, and nothing at all for the ones held elsewhere — they stay live on
// every member (a rename is split the same way: the held files at the new name, the others at the
// old one). In full mirroring the disk is the record, so no such window exists.
//
// The crash is simulated: the scanner is stopped before its batch runs (its timers die with it, as
// with the process), then a new scanner runs the startup inventory on the same index.db.
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { openIndexDb } from '../src/server/index/database.js'
import { FileIndex } from '../src/server/index/file-index.js'
import { Scanner } from '../src/server/watch/scanner.js'
import { tempDir, waitFor } from './helpers/index.js'

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

function scannerOn(root: string, index: FileIndex): Scanner {
  return new Scanner({
    root,
    index,
    self: 'A',
    busy: { has: () => false },
    refuse: () => undefined,
    warn: () => undefined,
    now: () => Date.now() + 1_000,
  })
}

describe('review i13-a: a folder delete of files held elsewhere, then kill -9', () => {
  it('the files held elsewhere are recorded as deleted too after the restart', async () => {
    const base = tempDir('tandem-review-i13-a-crash-')
    const root = `${base}/root`
    fs.mkdirSync(`${root}/d`, { recursive: true })
    let db = openIndexDb(`${base}/state`)
    let index = new FileIndex(db)
    let scanner = scannerOn(root, index)
    fs.writeFileSync(`${root}/d/here.txt`, 'held here')
    await scanner.scanNow(['d/here.txt'])
    index.put([
      {
        entry: {
          name: 'd/far.txt',
          size: 8,
          mtime: 1_700_000_000_000,
          hash: sha256('held far'),
          deleted: false,
          version: { B: 1 },
          origin: 'B',
          renamedFrom: null,
          fileId: 'id-far',
          creator: 'B',
        },
        fingerprint: null,
      },
    ])
    // The client's `rm -r d` here: told first, then the files on this disk go; the client is
    // answered "2 files deleted".
    scanner.expect({ kind: 'delete', names: ['d/far.txt', 'd/here.txt'] })
    fs.rmSync(`${root}/d`, { recursive: true })
    // kill -9 before the scanner's batch ran.
    scanner.stop()
    db.close()

    db = openIndexDb(`${base}/state`)
    index = new FileIndex(db)
    scanner = scannerOn(root, index)
    try {
      await scanner.inventory()
      // The file that left this disk is recorded as deleted (after the usual short grace).
      await waitFor(() => index.get('d/here.txt')?.deleted === true, {
        what: 'd/here.txt recorded as deleted',
      })
      await scanner.scanNow(['d/far.txt', 'd'])
      expect(index.get('d/far.txt')?.deleted, 'the file held elsewhere').toBe(true)
    } finally {
      scanner.stop()
      db.close()
    }
  })
})
