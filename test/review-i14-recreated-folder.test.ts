// Review of issue 14's watcher (one fs.watch per folder): a folder deleted, or renamed away, and
// made again under the same name at once. The scanner meets the new folder (a dir, as before) and
// tells the watcher, which must watch the new folder: the old watch is on the old inode (gone, or
// now under another name). Else a file written into the new folder later is seen only by the
// periodic rescan (set far beyond the deadlines here, as in test/unit/watcher.test.ts).
import fs from 'node:fs'
import { afterEach, describe, it } from 'vitest'
import { Watcher } from '../src/server/watch/watcher.js'
import { openIndexDb } from '../src/server/index/database.js'
import { FileIndex } from '../src/server/index/file-index.js'
import { Scanner } from '../src/server/watch/scanner.js'
import { tempDir } from './helpers/index.js'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function setup() {
  const base = tempDir('tandem-review-i14-')
  const root = `${base}/root`
  fs.mkdirSync(root)
  const db = openIndexDb(`${base}/state`)
  const index = new FileIndex(db)
  let watcher: Watcher | undefined = undefined
  const scanner = new Scanner({
    root,
    index,
    self: 'A',
    busy: { has: () => false },
    refuse: () => undefined,
    warn: () => undefined,
    now: () => Date.now() + 1_000, // every file is settled
    folder: (name, present) => watcher?.folder(name, present),
  })
  const w = new Watcher({
    root,
    scanner,
    rescanIntervalMs: 3_600_000, // never within a test: only events count
    onRootLost: () => undefined,
    warn: () => undefined,
  })
  watcher = w
  await w.ready
  await scanner.inventory()
  cleanups.push(async () => {
    await w.close()
    scanner.stop()
    db.close()
    fs.rmSync(base, { recursive: true, force: true })
  })
  const live = () =>
    index
      .live()
      .map((e) => e.name)
      .sort()
      .join()
  return { root, live }
}

async function until(what: string, ok: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

describe('a folder made again under the same name (review of issue 14)', () => {
  it('watches the new folder after the old one was deleted', async () => {
    const h = await setup()
    fs.mkdirSync(`${h.root}/a`)
    fs.writeFileSync(`${h.root}/a/one.txt`, '1')
    await until('the first file', () => h.live() === 'a/one.txt')
    // In one go: the scanner sees a folder at 'a' each time it looks.
    fs.rmSync(`${h.root}/a`, { recursive: true })
    fs.mkdirSync(`${h.root}/a`)
    fs.writeFileSync(`${h.root}/a/two.txt`, '2')
    await until('the new folder’s first file', () => h.live() === 'a/two.txt')
    fs.writeFileSync(`${h.root}/a/three.txt`, '3')
    await until(
      'a file written later into the new folder',
      () => h.live() === 'a/three.txt,a/two.txt',
    )
  })

  it('watches the new folder after the old one was renamed away', async () => {
    const h = await setup()
    fs.mkdirSync(`${h.root}/a`)
    fs.writeFileSync(`${h.root}/a/one.txt`, '1')
    await until('the first file', () => h.live() === 'a/one.txt')
    fs.renameSync(`${h.root}/a`, `${h.root}/b`)
    fs.mkdirSync(`${h.root}/a`)
    fs.writeFileSync(`${h.root}/a/two.txt`, '2')
    await until('the rename and the new folder', () => h.live() === 'a/two.txt,b/one.txt')
    fs.writeFileSync(`${h.root}/a/three.txt`, '3')
    fs.writeFileSync(`${h.root}/b/four.txt`, '4')
    await until(
      'files written later into both folders',
      () => h.live() === 'a/three.txt,a/two.txt,b/four.txt,b/one.txt',
    )
  })
})
