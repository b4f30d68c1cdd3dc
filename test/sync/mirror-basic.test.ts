// Changes made straight in one server's directory (as another program would) reach the other
// within 5 s, both ways, sub-folders included; uploads through both servers at once end on both.
import { writeFileSync } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  sha256Of,
  startCluster,
  tempDir,
  waitConverged,
  waitFile,
  type ClusterServer,
} from '../helpers/index.js'

/** Create, modify, rename and delete on `from`, each seen on `to` within 5 s. */
async function changesReach(from: ClusterServer, to: ClusterServer): Promise<void> {
  const both = [from, to]
  await from.write('hello.txt', `hello from ${from.name}\n`)
  await waitFile([to], 'hello.txt', `hello from ${from.name}\n`)

  await from.write('hello.txt', `hello again from ${from.name}, longer this time\n`)
  await waitFile([to], 'hello.txt', `hello again from ${from.name}, longer this time\n`)

  await fs.rename(from.file('hello.txt'), from.file('renamed.txt'))
  await waitFile([to], 'renamed.txt', `hello again from ${from.name}, longer this time\n`)
  await waitFile([to], 'hello.txt', null)

  await fs.rm(from.file('renamed.txt'))
  await waitFile([to], 'renamed.txt', null)

  await from.write('reports/2026/q1.txt', 'first quarter\n')
  await waitFile([to], 'reports/2026/q1.txt', 'first quarter\n')
  await from.write('reports/2026/q1.txt', 'first quarter, revised\n')
  await waitFile([to], 'reports/2026/q1.txt', 'first quarter, revised\n')
  await fs.rename(from.file('reports/2026/q1.txt'), from.file('reports/q1-final.txt'))
  await waitFile([to], 'reports/q1-final.txt', 'first quarter, revised\n')
  await waitFile([to], 'reports/2026/q1.txt', null)

  const tree = await waitConverged(both)
  expect([...tree.keys()]).toEqual(['reports/q1-final.txt'])
  await fs.rm(from.file('reports/q1-final.txt'))
  await waitFile([to], 'reports/q1-final.txt', null)
  expect((await waitConverged(both)).size).toBe(0)
}

describe('two servers, changes made directly in a data directory', () => {
  it('create, modify, rename and delete on A reach B within 5 s (sub-folder too)', async () => {
    const [a, b] = await startCluster(2)
    await changesReach(a, b)
  }, 45_000)

  it('create, modify, rename and delete on B reach A within 5 s (sub-folder too)', async () => {
    const [a, b] = await startCluster(2)
    await changesReach(b, a)
  }, 45_000)
})

describe('two servers, uploads through both at once', () => {
  it('files put through A and through B at the same time end on both', async () => {
    const [a, b] = await startCluster(2)
    const local = tempDir('tandem-put-')
    const contents = new Map<string, Buffer>()
    for (const server of ['A', 'B']) {
      for (let i = 0; i < 4; i++) {
        const name = `from-${server}-${i}.txt`
        const content = Buffer.from(`${name}\n`.repeat(1 + i * 1000))
        writeFileSync(path.join(local, name), content)
        contents.set(name, content)
      }
      const big = Buffer.alloc(6 * 1024 * 1024, server)
      writeFileSync(path.join(local, `big-${server}.bin`), big)
      contents.set(`big-${server}.bin`, big)
    }
    const putAll = (server: ClusterServer) =>
      server.cli(
        'put',
        ...[...contents.keys()]
          .filter((name) => name.includes(`-${server.name}`))
          .map((name) => path.join(local, name)),
        '/', // the destination: with cp's rules the last argument is where they go
      )
    await Promise.all([putAll(a), putAll(b)])

    const tree = await waitConverged([a, b])
    expect(new Map([...contents].map(([name, content]) => [name, sha256Of(content)]))).toEqual(tree)
  }, 30_000)
})
