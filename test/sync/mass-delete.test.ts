// A data directory emptied while its server was stopped is not propagated as a mass deletion: the
// server refuses to sync (status says so), and the peer keeps every file.
import fs from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import type { LogEntry } from '../../src/protocol/index.js'
import { sha256Of, startCluster, waitFor, waitTree, type ClusterServer } from '../helpers/index.js'

/** True once `server` sees the peer called `peer` up. */
async function seesUp(server: ClusterServer, peer: string): Promise<boolean> {
  const status = await server.status()
  return status.peers.some((p) => p.name === peer && p.up)
}

describe('an emptied data directory', () => {
  it('emptying A while it is stopped does not delete B’s files; A refuses to sync', async () => {
    const [a, b] = await startCluster(2)
    const files = new Map<string, string>()
    for (const name of ['one.txt', 'two.txt', 'reports/q1.txt', 'reports/2026/q2.txt']) {
      await a.write(name, `content of ${name}\n`)
      files.set(name, sha256Of(`content of ${name}\n`))
    }
    await waitTree([a, b], files)

    expect(await a.stop()).toBe(0)
    for (const entry of await fs.readdir(a.root))
      await fs.rm(a.file(entry), { recursive: true, force: true })
    await a.start()

    const refused = await waitFor(
      async () => {
        const status = await a.status()
        return status.sync?.state === 'refused' && status
      },
      { timeoutMs: 10_000, intervalMs: 100, what: "A's sync state to be 'refused'" },
    )
    expect(refused.sync?.state).toBe('refused')

    // A has had its chance to reach B (a link in either direction is up) ...
    await waitFor(async () => (await seesUp(b, 'A')) || (await seesUp(a, 'B')), {
      timeoutMs: 10_000,
      intervalMs: 100,
      what: 'a link between A and B',
    })
    // ... and B has processed a change of its own since then.
    await b.write('after.txt', 'made on B after A came back\n')
    await waitFor(async () => (await b.list()).some((row) => row.name === 'after.txt'), {
      what: "after.txt in B's listing",
    })
    await waitTree(
      [b],
      new Map([...files, ['after.txt', sha256Of('made on B after A came back\n')]]),
    )

    const deletes = (await b.cli<LogEntry[]>('log')).filter((e) => e.op === 'sync-delete')
    expect(deletes).toEqual([])
    expect((await a.status()).sync?.state).toBe('refused')
  }, 45_000)
})
