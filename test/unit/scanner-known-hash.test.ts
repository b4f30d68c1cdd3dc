// The scanner takes a hash a client upload told it only while the disk still shows exactly the
// file that was published (inode, size, mtime); otherwise it reads the file. Real files, a real
// index database, in a temp dir.
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { openIndexDb } from '../../src/server/index/database.js'
import { FileIndex } from '../../src/server/index/file-index.js'
import { Scanner } from '../../src/server/watch/scanner.js'
import { tempDir } from '../helpers/index.js'

const TOLD = 'a'.repeat(64)

function setup() {
  const base = tempDir('tandem-scanner-')
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
    now: () => Date.now() + 1_000, // every file is settled
  })
  return { root: `${base}/root`, index, scanner, close: () => db.close() }
}

describe('hashes told by uploads', () => {
  it('are used when the file is the one published', async () => {
    const { root, index, scanner, close } = setup()
    fs.writeFileSync(`${root}/f.txt`, 'published\n')
    const st = fs.statSync(`${root}/f.txt`)
    scanner.remember('f.txt', TOLD, { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino })
    await scanner.scanNow(['f.txt'])
    expect(index.get('f.txt')?.hash).toBe(TOLD) // not read: the told hash was taken
    close()
  })

  it('are not used once the file changed (same size, other bytes, other mtime)', async () => {
    const { root, index, scanner, close } = setup()
    fs.writeFileSync(`${root}/f.txt`, 'published\n')
    const st = fs.statSync(`${root}/f.txt`)
    scanner.remember('f.txt', TOLD, { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino })
    fs.writeFileSync(`${root}/f.txt`, 'rewritten\n')
    fs.utimesSync(`${root}/f.txt`, new Date(), new Date(st.mtimeMs + 5_000))
    await scanner.scanNow(['f.txt'])
    const real = createHash('sha256').update('rewritten\n').digest('hex')
    expect(index.get('f.txt')?.hash).toBe(real)
    close()
  })
})
