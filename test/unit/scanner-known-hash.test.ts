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

function setup(confirm?: (names: readonly string[]) => Promise<() => void>) {
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
    ...(confirm ? { confirm } : {}),
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

  it('are waited for when a big file is found while a client write holds its name', async () => {
    // The client's commit tells its hash under its write lock; the scanner, finding the file
    // first (its rename's event), waits that lock out with a read lock, and then takes the hash.
    let release: () => void = () => undefined
    const asked: string[][] = []
    const held = new Promise<void>((resolve) => (release = resolve))
    const { root, index, scanner, close } = setup(async (names) => {
      asked.push([...names])
      await held
      return () => undefined
    })
    fs.writeFileSync(`${root}/big.bin`, Buffer.alloc(2 * 1024 * 1024, 1))
    fs.writeFileSync(`${root}/small.txt`, 'small\n')
    const scanned = scanner.scanNow(['big.bin', 'small.txt'])
    const deadline = Date.now() + 5_000
    while (asked.length === 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 5))
    expect(asked).toEqual([['big.bin']]) // a small file is read at once, never waited for
    const st = fs.statSync(`${root}/big.bin`)
    scanner.remember('big.bin', TOLD, { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino })
    release()
    await scanned
    expect(index.get('big.bin')?.hash).toBe(TOLD)
    expect(index.get('small.txt')?.hash).toBe(createHash('sha256').update('small\n').digest('hex'))
    expect(scanner.hashReads).toBe(1) // small.txt only: the big file was not read
    close()
  })

  it('a big file no client told of is read once the wait is over', async () => {
    const { root, index, scanner, close } = setup(() => Promise.resolve(() => undefined))
    const data = Buffer.alloc(1024 * 1024, 2)
    fs.writeFileSync(`${root}/big.bin`, data)
    await scanner.scanNow(['big.bin'])
    expect(index.get('big.bin')?.hash).toBe(createHash('sha256').update(data).digest('hex'))
    expect(scanner.hashReads).toBe(1)
    close()
  })
})
