// A client's folder delete or rename, told to the scanner beforehand (TreeChange): the vanished
// names are recorded at once as deletions (past the mass-deletion guard) and each old name is
// paired with its new one as a rename even when only the old folder is looked at, each rename's
// tombstone right after its new entry. Real files, a real index database, in a temp dir.
import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { scannerHarness } from '../helpers/scanner-harness.js'

const setup = () => scannerHarness('tandem-scanner-')

const names = (folder: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${folder}/f${String(i).padStart(2, '0')}.txt`)

describe('a folder change told by the operation', () => {
  it('a delete of 30 files (all of them): tombstones at once, no refusal', async () => {
    const { root, index, scanner, refused, close } = setup()
    fs.mkdirSync(`${root}/d`)
    for (const name of names('d', 30)) fs.writeFileSync(`${root}/${name}`, name)
    await scanner.scanNow([''])
    expect(index.liveCount()).toBe(30)
    scanner.expect({ kind: 'delete', names: names('d', 30) })
    fs.rmSync(`${root}/d`, { recursive: true })
    await scanner.scanNow(['d'])
    expect(index.liveCount()).toBe(0)
    for (const name of names('d', 30)) expect(index.get(name)?.deleted).toBe(true)
    expect(refused).toEqual([])
    close()
  })

  it('the same delete untold is held by the guard (what the notice is for)', async () => {
    const { root, index, scanner, close } = setup()
    fs.mkdirSync(`${root}/d`)
    for (const name of names('d', 30)) fs.writeFileSync(`${root}/${name}`, name)
    await scanner.scanNow([''])
    fs.rmSync(`${root}/d`, { recursive: true })
    await scanner.scanNow(['d'])
    await new Promise((resolve) => setTimeout(resolve, 50)) // past the short grace for renames
    await scanner.scanNow(['d'])
    expect(index.liveCount()).toBe(30)
    close()
  })

  it('a rename seen only from the old folder: recorded as renames, each tombstone after its new name', async () => {
    const { root, index, scanner, close } = setup()
    fs.mkdirSync(`${root}/old`)
    for (const name of names('old', 25)) fs.writeFileSync(`${root}/${name}`, name)
    await scanner.scanNow([''])
    const seq = index.seq
    scanner.expect({
      kind: 'rename',
      pairs: names('old', 25).map((from) => ({ from, to: from.replace('old/', 'new/') })),
    })
    fs.renameSync(`${root}/old`, `${root}/new`)
    await scanner.scanNow(['old']) // the new folder's events have not come (yet)
    const entries = index.since(seq, 1_000)
    expect(entries).toHaveLength(50)
    for (let i = 0; i < entries.length; i += 2) {
      expect(entries[i]).toMatchObject({ deleted: false, renamedFrom: entries[i + 1]!.name })
      expect(entries[i + 1]!.deleted).toBe(true)
      expect(entries[i]!.name).toBe(entries[i + 1]!.name.replace('old/', 'new/'))
    }
    // The new folder's own events, when they come, change nothing.
    await scanner.scanNow(['new'])
    expect(index.since(seq, 1_000)).toHaveLength(50)
    close()
  })
})
