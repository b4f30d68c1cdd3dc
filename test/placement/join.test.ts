// A fourth member joins a cluster of three with --replicas 2: it receives its share of the copies,
// and the members it takes them from drop theirs only once the new ones are on its disk. From the
// moment it starts every file has at least 2 and at most 3 copies on the disks, and within 30 s
// exactly 2 again; its `ls --json` lists every file with its holders.
import { describe, expect, it } from 'vitest'
import type { ClusterServer } from '../helpers/index.js'
import { waitFor } from '../helpers/index.js'
import {
  copiesOf,
  describeCopies,
  filesPerServer,
  makeFiles,
  placementOf,
  putFiles,
  startPlacementCluster,
  waitSettled,
  watchCopies,
} from '../helpers/placement.js'

describe('placement: a member joins', () => {
  it('D joins A, B, C: it gets its share; every file 2..3 copies all along, exactly 2 within 30 s', async () => {
    const servers = await startPlacementCluster({ members: 4, started: 3 })
    const [a, b, c, d] = servers as [ClusterServer, ClusterServer, ClusterServer, ClusterServer]
    const expected = await putFiles(a, makeFiles(60, 16 * 1024))
    await waitSettled([a, b, c], [a, b, c], expected, { min: 2, max: 2 })

    // Old members first: they only lose copies, D only gains (a moving copy is seen at least once).
    const watch = watchCopies([a, b, c, d], expected, { min: 2, max: 3 })
    await d.start()
    const after = await waitSettled(servers, servers, expected, {
      min: 2,
      max: 2,
      timeoutMs: 30_000,
      what: 'exactly 2 copies of every file, D holding its share',
      also: (copies) =>
        (filesPerServer(copies, servers).get('D') ?? 0) >= 8 || 'D holding at least 8 files',
    })
    const { samples, violations } = await watch.stop()
    expect(samples).toBeGreaterThan(0)
    expect(violations).toEqual([])

    const per = filesPerServer(after, servers)
    const summary = `files per member: ${JSON.stringify(Object.fromEntries(per))}\n  ${describeCopies(after)}`
    expect(per.get('A'), summary).toBe(60)
    // Its share of the 60 second copies, a third in expectation (20 ± 3.7).
    expect(per.get('D'), summary).toBeLessThanOrEqual(32)

    // Ending at exactly 2: nothing more to move at any member, and the disks stay as they are.
    for (const server of servers)
      await waitFor(
        async () => {
          const p = await placementOf(server)
          return (
            p !== undefined && p.surplus === 0 && p.underReplicated === 0 && p.healing.queued === 0
          )
        },
        {
          timeoutMs: 10_000,
          intervalMs: 200,
          what: `${server.name}'s status to show nothing to move`,
        },
      )
    expect((await copiesOf(servers, expected)).holders).toEqual(after.holders)
  }, 90_000)
})
