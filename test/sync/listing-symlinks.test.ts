// Symlinks are not mirrored, and the listing says so: at the server whose disk has them they are
// listed as symlinks (to a file inside the root, out of it, dangling), never at its peers; a
// peer's file under a link's name shows in the link's row as a copy that differs.
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli } from '../client/run-cli.js'
import {
  sha256Of,
  startCluster,
  tempDir,
  waitFile,
  waitFor,
  type ListRow,
} from '../helpers/index.js'

describe('symlinks in the listing', () => {
  it('are listed as symlinks where they are, and neither mirrored nor listed at the peer', async () => {
    const [a, b] = await startCluster(2)
    const outside = tempDir('tandem-outside-')
    fs.writeFileSync(path.join(outside, 'secret.txt'), 'not served\n')
    await a.write('real.txt', 'real\n')
    await waitFile([b], 'real.txt', 'real\n')
    fs.symlinkSync('real.txt', a.file('to-file'))
    fs.symlinkSync(path.join(outside, 'secret.txt'), a.file('to-outside'))
    fs.symlinkSync('nowhere.txt', a.file('dangling'))
    // Made after the links: once it is at B, the scanner has been past them.
    await a.write('after.txt', 'after\n')
    await waitFile([b], 'after.txt', 'after\n')

    const atA = await a.cli<ListRow[]>('ls')
    expect(atA.map((r) => [r.name, r.kind ?? 'file', r.size, r.servers])).toEqual([
      ['after.txt', 'file', 6, ['A', 'B']],
      ['dangling', 'symlink', 0, ['A']],
      ['real.txt', 'file', 5, ['A', 'B']],
      ['to-file', 'symlink', 0, ['A']],
      ['to-outside', 'symlink', 0, ['A']],
    ])
    expect(atA.every((r) => !r.differs)).toBe(true)
    // B has none of them, on disk or in its listing.
    const atB = await b.cli<ListRow[]>('ls')
    expect(atB.map((r) => r.name)).toEqual(['after.txt', 'real.txt'])
    for (const name of ['to-file', 'to-outside', 'dangling'])
      expect(fs.lstatSync(b.file(name), { throwIfNoEntry: false })).toBeUndefined()
    expect(sha256Of(fs.readFileSync(b.file('real.txt')))).toBe(sha256Of('real\n'))

    // The text listing names them as what they are.
    const text = (await runCli(['--server', a.address, 'ls'])).stdout.toString('utf8')
    expect(text).toMatch(/\bto-file -> \(symlink, not mirrored\)\s+-\s/)
    expect(text).toMatch(/\bto-outside -> \(symlink, not mirrored\)/)
    expect(text).toMatch(/\bdangling -> \(symlink, not mirrored\)/)
    expect(text).toMatch(/2 files, 11 B, 3 symlinks \(not mirrored\)/)

    // A file made at B under a link's name cannot be applied at A (the link is in its way): A's
    // row stays the link, and says that B's copy is a file.
    await b.write('dangling', 'a regular file on B\n')
    const blocked = await waitFor(
      async () => {
        const row = (await a.list()).find((r) => r.name === 'dangling')
        return row?.differs === true && row
      },
      { what: 'A’s listing to show B’s file under its link' },
    )
    expect(blocked).toMatchObject({ kind: 'symlink', servers: ['A'], size: 0 })
    expect(blocked.copies).toEqual([
      { server: 'A', size: 0, mtime: expect.any(Number), symlink: true },
      {
        server: 'B',
        size: 20,
        mtime: expect.any(Number),
        sha256: sha256Of('a regular file on B\n'),
      },
    ])
    expect(fs.lstatSync(a.file('dangling')).isSymbolicLink()).toBe(true)
  }, 60_000)
})
