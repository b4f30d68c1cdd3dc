// A file whose name tandem cannot serve (a control character) is never indexed, whether the
// scanner meets it by a watcher's hint or by walking the tree, so it is never sent to peers; it
// is reported once, however often it is looked at again. Real files, a real index database.
import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { openIndexDb } from '../../src/server/index/database.js'
import { FileIndex } from '../../src/server/index/file-index.js'
import { Scanner } from '../../src/server/watch/scanner.js'
import { registerCleanup, tempDir } from '../helpers/index.js'

const ESC_NAME = 'x\x1b[31mRED\x1b[0m'
const NEWLINE_NAME = 'disk\nnewline'

function setup() {
  const base = tempDir('tandem-scanner-')
  const root = `${base}/root`
  fs.mkdirSync(root)
  const db = openIndexDb(`${base}/state`)
  registerCleanup(() => {
    db.close()
  })
  const index = new FileIndex(db)
  const warnings: string[] = []
  const scanner = new Scanner({
    root,
    index,
    self: 'A',
    busy: { has: () => false },
    refuse: () => undefined,
    warn: (message) => warnings.push(message),
    now: () => Date.now() + 1_000, // every file is settled
  })
  registerCleanup(() => scanner.stop())
  return { root, index, scanner, warnings }
}

describe('names tandem cannot serve', () => {
  it('are not indexed from hints or walks, and are reported once each', async () => {
    const { root, index, scanner, warnings } = setup()
    fs.mkdirSync(`${root}/sub`)
    for (const name of [ESC_NAME, NEWLINE_NAME, 'sub/tab\there', 'plain.txt'])
      fs.writeFileSync(`${root}/${name}`, `${name}\n`)

    // As the watcher hints them (one name per event), then the rescans and the inventory.
    await scanner.scanNow([ESC_NAME, NEWLINE_NAME, 'sub/tab\there', 'plain.txt'])
    await scanner.scanNow([ESC_NAME, NEWLINE_NAME])
    await scanner.scanNow([''])
    await scanner.scanNow([''])
    await scanner.inventory()

    expect(index.live().map((entry) => entry.name)).toEqual(['plain.txt'])
    expect(index.since(0, 100).map((entry) => entry.name)).toEqual(['plain.txt'])
    const notMirrored = warnings.filter((w) => w.startsWith('not mirrored'))
    expect(notMirrored).toHaveLength(3)
    for (const name of [ESC_NAME, NEWLINE_NAME, 'sub/tab\there'])
      expect(notMirrored.filter((w) => w.includes(`'${name}'`))).toHaveLength(1)
  })
})
