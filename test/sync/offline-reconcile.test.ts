// Changes made while a server was down are reconciled when it comes back: the changes on both
// sides end on both, and a file deleted while the peer was down stays deleted (no resurrection),
// checked at convergence and again after further changes in both directions.
import fs from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import type { LogEntry } from '../../src/protocol/index.js'
import {
  sha256Of,
  startCluster,
  waitConverged,
  waitFile,
  waitPeersUp,
  waitTree,
  type ClusterServer,
} from '../helpers/index.js'

describe('startup reconciliation', () => {
  it('stop B; delete and modify on A, create on B; start B: both converge, the delete holds', async () => {
    const [a, b] = await startCluster(2)
    await a.write('keep.txt', 'kept\n')
    await a.write('gone.txt', 'to be deleted while B is down\n')
    await a.write('docs/edit.txt', 'first version\n')
    await waitConverged([a, b])

    expect(await b.stop()).toBe(0)
    await fs.rm(a.file('gone.txt'))
    await a.write('docs/edit.txt', 'second version, written while B was down\n')
    await b.write('made-on-b.txt', 'created on B while it was stopped\n')
    await b.start()

    const expected = new Map([
      ['keep.txt', sha256Of('kept\n')],
      ['docs/edit.txt', sha256Of('second version, written while B was down\n')],
      ['made-on-b.txt', sha256Of('created on B while it was stopped\n')],
    ])
    await waitTree([a, b], expected, 15_000)

    // A resurrection would come with the next exchanges: make some, each way, and look again.
    await waitPeersUp(b, 1)
    await b.write('round-trip-b.txt', 'from B after the restart\n')
    await waitFile([a], 'round-trip-b.txt', 'from B after the restart\n')
    await a.write('round-trip-a.txt', 'from A after the restart\n')
    await waitFile([b], 'round-trip-a.txt', 'from A after the restart\n')
    expected.set('round-trip-b.txt', sha256Of('from B after the restart\n'))
    expected.set('round-trip-a.txt', sha256Of('from A after the restart\n'))
    await waitTree([a, b], expected)
  }, 45_000)

  it('a server restarted with nothing changed keeps every file and pulls none again', async () => {
    const [a, b] = await startCluster(2)
    await a.write('one.txt', 'one\n')
    await b.write('two/two.txt', 'two\n')
    const before = await waitConverged([a, b])
    expect(await a.stop()).toBe(0)
    await a.start()
    await waitPeersUp(a, 1)
    await b.write('three.txt', 'three\n')
    await waitFile([a], 'three.txt', 'three\n')
    const after = await waitConverged([a, b])
    expect(after).toEqual(new Map([...before, ['three.txt', sha256Of('three\n')]]))
    // An unchanged file is never sent again: each was pulled once, before the restart.
    const pulls = async (server: ClusterServer, name: string) =>
      (await server.cli<LogEntry[]>('log')).filter(
        (entry) => entry.op === 'sync-pull' && entry.name === name,
      ).length
    expect(await pulls(b, 'one.txt')).toBe(1)
    expect(await pulls(a, 'two/two.txt')).toBe(1)
  }, 30_000)
})
