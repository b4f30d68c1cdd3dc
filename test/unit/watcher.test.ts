// The watcher (one fs.watch per folder) with a real scanner and index on a real temp directory:
// what other programs do on the disk is indexed from the events alone (the periodic rescan is
// set far beyond every deadline here), folders are watched as the scanner meets them and let go
// when they go, and hints held while paused are all given on resume.
import fs from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { Watcher } from '../../src/server/watch/watcher.js'
import { openIndexDb } from '../../src/server/index/database.js'
import { FileIndex } from '../../src/server/index/file-index.js'
import { Scanner } from '../../src/server/watch/scanner.js'
import { tempDir } from '../helpers/index.js'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function setup(options: { hold?: boolean } = {}) {
  const base = tempDir('tandem-watcher-')
  const root = `${base}/root`
  fs.mkdirSync(root)
  const db = openIndexDb(`${base}/state`)
  const index = new FileIndex(db)
  const warnings: string[] = []
  const hinted: string[] = []
  let rootLost = 0
  let watcher: Watcher | undefined = undefined
  const scanner = new Scanner({
    root,
    index,
    self: 'A',
    busy: { has: () => false },
    refuse: () => undefined,
    warn: (message) => warnings.push(message),
    now: () => Date.now() + 1_000, // every file is settled
    folder: (name, present) => watcher?.folder(name, present),
  })
  const w = new Watcher({
    root,
    scanner: {
      hint: (name) => {
        hinted.push(name)
        if (!options.hold) scanner.hint(name)
      },
    },
    rescanIntervalMs: 3_600_000, // never within a test: only events count
    onRootLost: () => rootLost++,
    warn: (message) => warnings.push(message),
  })
  watcher = w
  await w.ready
  await scanner.inventory()
  cleanups.push(async () => {
    await w.close()
    scanner.stop()
    db.close()
  })
  const live = () =>
    index
      .live()
      .map((e) => e.name)
      .sort()
  return { root, index, scanner, watcher: w, warnings, hinted, live, rootLost: () => rootLost }
}

async function until(what: string, ok: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

describe('the watcher', () => {
  it('indexes a nested folder made and filled at once, and what is added to it later', async () => {
    const h = await setup()
    fs.mkdirSync(`${h.root}/a/b/c`, { recursive: true })
    fs.writeFileSync(`${h.root}/a/one.txt`, '1')
    fs.writeFileSync(`${h.root}/a/b/c/two.txt`, '2')
    await until('the first files', () => h.live().length === 2)
    expect(h.watcher.watched).toBe(4) // the root, a, a/b, a/b/c
    // Events from the new folders' own watches now, no walk needed.
    fs.writeFileSync(`${h.root}/a/b/c/three.txt`, '3')
    fs.mkdirSync(`${h.root}/a/b/c/d`)
    fs.writeFileSync(`${h.root}/a/b/c/d/four.txt`, '4')
    await until('the later files', () => h.live().length === 4)
    expect(h.live()).toEqual(['a/b/c/d/four.txt', 'a/b/c/three.txt', 'a/b/c/two.txt', 'a/one.txt'])
    expect(h.warnings).toEqual([])
  })

  it('follows a renamed folder, and lets the old name’s watches go', async () => {
    const h = await setup()
    fs.mkdirSync(`${h.root}/old/sub`, { recursive: true })
    fs.writeFileSync(`${h.root}/old/sub/f.txt`, 'f')
    await until('the file', () => h.live().length === 1)
    expect(h.watcher.watched).toBe(3)
    fs.renameSync(`${h.root}/old`, `${h.root}/new`)
    await until('the rename', () => h.live().join() === 'new/sub/f.txt')
    expect(h.watcher.watched).toBe(3) // the root, new, new/sub: old and old/sub let go
    expect(h.index.get('new/sub/f.txt')?.renamedFrom).toBe('old/sub/f.txt')
    // The moved folder's files still report, under their new name.
    fs.writeFileSync(`${h.root}/new/sub/g.txt`, 'g')
    await until('a file in the moved folder', () => h.live().length === 2)
  })

  it('lets a deleted folder’s watches go, and sees its files deleted', async () => {
    const h = await setup()
    fs.writeFileSync(`${h.root}/keep.txt`, 'k')
    fs.mkdirSync(`${h.root}/gone/deep`, { recursive: true })
    fs.writeFileSync(`${h.root}/gone/deep/x.txt`, 'x')
    await until('the files', () => h.live().length === 2)
    expect(h.watcher.watched).toBe(3)
    fs.rmSync(`${h.root}/gone`, { recursive: true })
    await until('the deletion', () => h.live().join() === 'keep.txt')
    await until('the watches to go', () => h.watcher.watched === 1)
  })

  it('ignores temp files, and says when the root itself goes', async () => {
    const h = await setup()
    fs.writeFileSync(`${h.root}/.tandem-tmp-0123456789abcdef`, 'temp')
    fs.writeFileSync(`${h.root}/real.txt`, 'real')
    await until('the real file', () => h.live().length === 1)
    expect(h.hinted.filter((n) => n.startsWith('.tandem-tmp-'))).toEqual([])
    fs.rmSync(h.root, { recursive: true })
    await until('the root to be lost', () => h.rootLost() > 0)
  })

  it('holds hints while paused and gives each name once on resume', async () => {
    const h = await setup({ hold: true })
    h.watcher.pause()
    for (let i = 0; i < 20; i++) fs.writeFileSync(`${h.root}/p${i}.txt`, `${i}`)
    for (let i = 0; i < 20; i++) fs.appendFileSync(`${h.root}/p${i}.txt`, 'more')
    // Events come, but none is given while paused.
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(h.hinted.filter((n) => n.startsWith('p'))).toEqual([])
    h.watcher.resume()
    const given = h.hinted.filter((n) => n.startsWith('p'))
    expect(new Set(given).size).toBe(20)
    expect(given.length).toBe(20) // deduplicated
  })
})
