// The scanner indexes a burst of new files in one index transaction per scan, reads each file
// once, and reads none again on a rescan when nothing changed; a file changed since is read again.
// Real files and a real index.db in a temp dir (test/helpers/scanner-harness.ts).
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { hashFile } from '../../src/server/watch/disk-probe.js'
import { scannerHarness } from '../helpers/scanner-harness.js'

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex')

describe('a burst of new files', () => {
  it('2,000 files at once: all indexed in one transaction, each read once, none on a rescan', async () => {
    const h = scannerHarness()
    const commits: number[] = []
    h.index.onStored((entries) => commits.push(entries.length))
    fs.mkdirSync(`${h.root}/many`)
    for (let i = 0; i < 2000; i++) fs.writeFileSync(`${h.root}/many/f${i}.txt`, `file ${i}\n`)
    await h.scanner.scanNow(['many'])
    expect(commits).toEqual([2000])
    expect(h.scanner.hashReads).toBe(2000)
    expect(h.index.get('many/f1234.txt')?.hash).toBe(sha('file 1234\n'))
    // The rescan: a stat per file, nothing read, nothing stored.
    await h.scanner.scanNow([''])
    expect(commits).toEqual([2000])
    expect(h.scanner.hashReads).toBe(2000)
    // One file changed (same size, new mtime): only it is read again.
    fs.writeFileSync(`${h.root}/many/f7.txt`, 'FILE 7\n')
    fs.utimesSync(`${h.root}/many/f7.txt`, new Date(), new Date(Date.now() + 5_000))
    await h.scanner.scanNow([''])
    expect(commits).toEqual([2000, 1])
    expect(h.scanner.hashReads).toBe(2001)
    expect(h.index.get('many/f7.txt')?.hash).toBe(sha('FILE 7\n'))
    h.close()
  })
})

describe('hints held while the server wrote (BulkMode)', () => {
  it('a hint for an event the scanner looked past since is dropped; a later one is not', async () => {
    const h = scannerHarness()
    const file = `${h.root}/f.txt`
    const eventAt = performance.now()
    fs.writeFileSync(file, 'one\n')
    await h.scanner.scanNow(['f.txt']) // looks after the event: covers it
    // Changed again, but the hint given names the old event only: no look for it.
    fs.writeFileSync(file, 'two, longer\n')
    h.scanner.hint('f.txt', eventAt)
    await new Promise((resolve) => setTimeout(resolve, 50))
    await h.scanner.scanNow([])
    expect(h.index.get('f.txt')?.hash).toBe(sha('one\n'))
    // The change's own event, after that look: looked at.
    h.scanner.hint('f.txt', performance.now())
    const deadline = Date.now() + 5_000
    while (h.index.get('f.txt')?.hash !== sha('two, longer\n') && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10))
    expect(h.index.get('f.txt')?.hash).toBe(sha('two, longer\n'))
    h.close()
  })
})

describe('hashFile', () => {
  it('hashes any size right, whatever size it was told', async () => {
    const h = scannerHarness()
    const MiB = 1024 * 1024
    for (const size of [0, 1, 4096, MiB - 1, MiB, MiB + 1, 3 * MiB + 7]) {
      const data = Buffer.alloc(size)
      for (let i = 0; i < size; i += 4093) data[i] = i % 251
      const file = `${h.root}/s${size}.bin`
      fs.writeFileSync(file, data)
      // The size told is a hint only: a file grown or shrunk since is still hashed whole.
      for (const hint of [size, Math.max(0, size - 1), size + 10, 64 * 1024])
        expect(await hashFile(file, hint)).toBe(sha(data))
    }
    h.close()
  })
})
