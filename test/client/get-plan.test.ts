// How get maps remote names to local paths: cp's rules for the destination, and no name a server
// sends can put a file outside the folder it is meant for.
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { findSource, localPathFor, planGet } from '../../src/client/get-plan.js'
import type { FileRow } from '../../src/protocol/index.js'
import { tempDir } from '../helpers/index.js'
import { codeOf } from './fake-server.js'

const row = (name: string, size = 1): FileRow => ({
  index: 0,
  name,
  size,
  mtime: 0,
  servers: ['A'],
  locked: false,
  locks: [],
  differs: false,
})

describe('localPathFor', () => {
  it('keeps every name a server could send inside the destination', () => {
    const root = tempDir()
    for (const hostile of [
      '../escape',
      'a/../../escape',
      '/etc/passwd',
      '..',
      'a\\..\\..\\escape',
      'nul\0byte',
      '',
      '.',
    ]) {
      expect(() => localPathFor(root, hostile), hostile).toThrow(
        expect.objectContaining({ code: 'ERR_BAD_PATH' }),
      )
    }
    expect(localPathFor(root, 'a/./b//c')).toBe(path.join(root, 'a', 'b', 'c'))
  })
})

describe('planGet', () => {
  it('refuses a folder whose listing holds a hostile name, before anything is written', async () => {
    const rows = [row('docs/ok.txt'), row('docs/../../../tmp/evil')]
    const source = findSource(rows, 'docs')
    expect(await codeOf(planGet([source], tempDir()))).toBe('ERR_BAD_PATH')
    const root = findSource([row('../up')], '')
    expect(await codeOf(planGet([root], tempDir()))).toBe('ERR_BAD_PATH')
  })

  it('reads DEST by cp rules: a new name, inside an existing folder or a trailing /, a folder for several', async () => {
    const dir = tempDir()
    const rows = [row('a/x.txt', 3), row('a/sub/y.txt', 4), row('b.txt', 5)]
    const locals = async (sources: string[], dest?: string) =>
      (
        await planGet(
          sources.map((s) => findSource(rows, s)),
          dest,
        )
      ).items.map((i) => i.local)
    expect(await locals(['b.txt'])).toEqual(['b.txt'])
    expect(await locals(['a'])).toEqual([path.join('a', 'x.txt'), path.join('a', 'sub', 'y.txt')])
    expect(await locals(['b.txt'], path.join(dir, 'new'))).toEqual([path.join(dir, 'new')])
    expect(await locals(['b.txt'], dir)).toEqual([path.join(dir, 'b.txt')])
    expect(await locals(['b.txt'], 'later/')).toEqual([path.join('later', 'b.txt')])
    expect(await locals(['a'], path.join(dir, 'copy'))).toEqual([
      path.join(dir, 'copy', 'x.txt'),
      path.join(dir, 'copy', 'sub', 'y.txt'),
    ])
    const several = await planGet(
      ['b.txt', 'a/sub'].map((s) => findSource(rows, s)),
      path.join(dir, 'many'),
    )
    expect(several.makeFolder).toBe(path.join(dir, 'many'))
    expect(several.items.map((i) => i.local)).toEqual([
      path.join(dir, 'many', 'b.txt'),
      path.join(dir, 'many', 'sub', 'y.txt'),
    ])
    expect(several.bytes).toBe(9)
    expect(await locals([''], dir)).toEqual([
      path.join(dir, 'a', 'x.txt'),
      path.join(dir, 'a', 'sub', 'y.txt'),
      path.join(dir, 'b.txt'),
    ])
  })

  it('leaves out rows the listing marks as symbolic links, saying so', async () => {
    const dir = tempDir()
    const link = { ...row('s/link'), kind: 'symlink' } as FileRow
    const plan = await planGet([findSource([row('s/file'), link], 's')], dir)
    expect(plan.items.map((i) => i.name)).toEqual(['s/file'])
    expect(plan.skipped).toEqual([
      { name: 's/link', path: path.join(dir, 's', 'link'), reason: 'symlink' },
    ])
  })

  it('marks files the listing shows only at other servers, when told which server it is', async () => {
    // Asked for all the same (held elsewhere: the server names the holders and the client
    // follows), but skipped by getFiles if the server does not know them yet (transfer.test.ts).
    const dir = tempDir()
    const rows = [row('f/here'), { ...row('f/there'), servers: ['B'] }]
    const plan = await planGet([findSource(rows, 'f', 'A')], dir)
    expect(plan.items.map((i) => [i.name, i.notHere])).toEqual([
      ['f/here', undefined],
      ['f/there', true],
    ])
    expect(plan.skipped).toEqual([])
    const all = await planGet([findSource(rows, 'f')], dir)
    expect(all.items.map((i) => i.notHere)).toEqual([undefined, undefined])
  })

  it('refuses what is neither a file nor a folder, and two sources onto one local path', async () => {
    const rows = [row('x/same.txt'), row('y/same.txt'), row('z/same.txt/inner')]
    expect(() => findSource(rows, 'nope')).toThrow(
      expect.objectContaining({ code: 'ERR_NOT_FOUND' }),
    )
    expect(() => findSource(rows, 'x/same')).toThrow(
      expect.objectContaining({ code: 'ERR_NOT_FOUND' }),
    )
    const dest = tempDir()
    const plan = (names: string[]) =>
      planGet(
        names.map((n) => findSource(rows, n)),
        dest,
      )
    expect(await codeOf(plan(['x/same.txt', 'y/same.txt']))).toBe('ERR_EXISTS')
    expect(await codeOf(plan(['x/same.txt', 'z/same.txt']))).toBe('ERR_EXISTS')
  })
})
