// Review of issue 13 (reviewer B), the cluster-wide effect of review-i13-b-type-clash.test.ts:
// at a member that holds no copy of `f.txt`, `tandem put` of `f.txt/x` succeeds (its disk has no
// f.txt in the way), and the cluster then resolves the type clash by its rule — the folder wins,
// the FILE is moved to a conflict copy: the existing f.txt, which nobody asked to change, loses
// its name on every member. At a holder the same put is refused (ERR_EXISTS: a part of its path
// is a file).
//
// Three real servers on loopback (--replicas 2, each the others' --peer).
import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli } from './client/run-cli.js'
import { tempDir, waitFor, type ClusterServer } from './helpers/index.js'
import { startPlacementCluster } from './helpers/placement.js'

/** Three members on loopback, each the others' --peer, --replicas 2, HTTP on. */
function startReplicated(): Promise<ClusterServer[]> {
  return startPlacementCluster({ members: 3, http: true, fast: false })
}

describe('a path below a file held elsewhere (review i13 B)', () => {
  it('put of f.txt/x at a non-holder of f.txt leaves f.txt alone', async () => {
    const servers = await startReplicated()
    const [a, , c] = servers as [ClusterServer, ClusterServer, ClusterServer]
    for (let i = 0; i < 8; i++) await a.write(`f-${i}.txt`, `keep me ${i}\n`)
    const far = await waitFor(
      async () => {
        const rows = await c.list()
        if (rows.length < 8 || rows.some((r) => r.servers.length !== 2)) return false
        return rows.find((r) => !r.servers.includes('C'))?.name ?? false
      },
      { timeoutMs: 30_000, what: 'every file on 2 members, one not at C' },
    )
    const local = tempDir('tandem-review-clash-')
    await fs.writeFile(path.join(local, 'x'), 'new file below it\n')
    const put = await runCli(['--server', c.address, 'put', path.join(local, 'x'), `${far}/x`])
    // Refused, as at a holder. Accepted: what became of f.txt once the clash is resolved at A?
    let after = 'refused'
    if (put.code === 0) {
      const names = await waitFor(
        async () => {
          const listed = (await a.list()).map((r) => r.name)
          const resolved =
            listed.includes(`${far}/x`) && listed.some((n) => n.includes('sync-conflict'))
          return resolved && listed
        },
        { timeoutMs: 20_000, what: `${far}/x and a conflict copy at A` },
      ).catch(async () => (await a.list()).map((r) => r.name))
      after = `accepted; A lists then: ${names.join(', ')}`
    }
    expect({ code: put.code, after }, `put of ${far}/x at C: ${put.stderr}`).toMatchObject({
      after: 'refused',
    })
  }, 120_000)
})
