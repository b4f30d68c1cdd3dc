// Three servers, each with the other two as peers: a change on any one reaches the other two.
import fs from 'node:fs/promises'
import { describe, it } from 'vitest'
import { sha256Of, startCluster, waitFile, waitTree } from '../helpers/index.js'

describe('three servers', () => {
  it('create on A, modify on B, delete on C, rename on A: each reaches the other two', async () => {
    const [a, b, c] = await startCluster(3)
    const all = [a, b, c]

    await a.write('one.txt', 'one, made on A\n')
    await a.write('sub/two.txt', 'two, made on A\n')
    await waitFile([b, c], 'one.txt', 'one, made on A\n')
    await waitFile([b, c], 'sub/two.txt', 'two, made on A\n')

    await b.write('one.txt', 'one, modified on B\n')
    await waitFile([a, c], 'one.txt', 'one, modified on B\n')

    await fs.rm(c.file('sub/two.txt'))
    await waitFile([a, b], 'sub/two.txt', null)

    await fs.mkdir(a.file('renamed'))
    await fs.rename(a.file('one.txt'), a.file('renamed/one.txt'))
    await waitFile([b, c], 'renamed/one.txt', 'one, modified on B\n')
    await waitFile([b, c], 'one.txt', null)

    await c.write('from-c.txt', 'made on C\n')
    await waitFile([a, b], 'from-c.txt', 'made on C\n')

    await waitTree(
      all,
      new Map([
        ['renamed/one.txt', sha256Of('one, modified on B\n')],
        ['from-c.txt', sha256Of('made on C\n')],
      ]),
    )
  }, 45_000)
})
