// What must not stop mirroring: a name here that the peer's version cannot replace (a symlink),
// and a path the scanner cannot look at (a symlink loop). In both cases later changes still flow.
import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { sha256Of, startCluster, waitTree } from '../helpers/index.js'

describe('mirroring goes on', () => {
  it('past an entry that cannot be applied here (a symlink where the peer has a file)', async () => {
    const [a, b] = await startCluster(2)
    fs.writeFileSync(`${a.root}/target.txt`, 'target\n')
    await waitTree([b], new Map([['target.txt', sha256Of('target\n')]]))
    fs.symlinkSync('target.txt', `${a.root}/x.txt`)
    fs.writeFileSync(`${b.root}/x.txt`, 'a regular file on B\n')
    fs.writeFileSync(`${b.root}/y.txt`, 'after it\n')
    // y.txt reaches A although x.txt cannot (A keeps its symlink, which trees do not list).
    await waitTree(
      [a],
      new Map([
        ['target.txt', sha256Of('target\n')],
        ['y.txt', sha256Of('after it\n')],
      ]),
    )
    expect(fs.lstatSync(`${a.root}/x.txt`).isSymbolicLink()).toBe(true)
  }, 45_000)

  it('past a path the scanner cannot look at (a folder replaced by a symlink loop)', async () => {
    const [a, b] = await startCluster(2)
    fs.mkdirSync(`${a.root}/d`)
    fs.writeFileSync(`${a.root}/d/f.txt`, 'f\n')
    await waitTree([b], new Map([['d/f.txt', sha256Of('f\n')]]))
    fs.rmSync(`${a.root}/d`, { recursive: true })
    fs.symlinkSync('d', `${a.root}/d`) // d → d: every look below it fails with ELOOP
    fs.writeFileSync(`${a.root}/z.txt`, 'z\n')
    await waitTree([b], new Map([['z.txt', sha256Of('z\n')]]))
  }, 45_000)
})
