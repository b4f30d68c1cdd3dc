// --replicas 2 of 3 members: 60 files put through one member end up on exactly 2 disks each. The
// creating member holds all 60; the second copies spread over the other two, each between 20 and
// 40 (the rule weighs equal disks equally). Every member's `ls --json` lists all 60, the ones it
// does not hold too, with `servers` = the members whose disks hold the file. No member takes a
// copy it is not meant to hold (no third copy on any disk at any moment).
import { describe, expect, it } from 'vitest'
import type { ClusterServer } from '../helpers/index.js'
import {
  copiesOf,
  describeCopies,
  filesPerServer,
  makeFiles,
  putFiles,
  shasOf,
  startPlacementCluster,
  waitCopies,
  waitListingShowsHolders,
  watchCopies,
} from '../helpers/placement.js'

describe('placement: 60 files, --replicas 2 of 3', () => {
  it('put through A: A holds all 60, B and C 20..40 each, every ls shows all 60 with their holders', async () => {
    const servers = await startPlacementCluster({ members: 3 })
    const [a, b, c] = servers as [ClusterServer, ClusterServer, ClusterServer]
    const files = makeFiles(60, 4096)
    // Content goes to the desired holders only: never a third copy, not even for a moment.
    const watch = watchCopies(servers, shasOf(files), { min: 0, max: 2 })
    const expected = await putFiles(a, files)

    const copies = await waitCopies(servers, expected, {
      min: 2,
      max: 2,
      what: 'every file on exactly 2 of the 3 disks',
    })
    const { violations } = await watch.stop()
    expect(violations, 'copies beyond the 2 holders').toEqual([])
    const per = filesPerServer(copies, servers)
    const summary = `files per member: ${JSON.stringify(Object.fromEntries(per))}\n  ${describeCopies(copies)}`
    expect(per.get(a.name), summary).toBe(60)
    for (const other of [b, c]) {
      expect(per.get(other.name), summary).toBeGreaterThanOrEqual(20)
      expect(per.get(other.name), summary).toBeLessThanOrEqual(40)
    }

    for (const server of servers) {
      const rows = await waitListingShowsHolders(server, copies.holders)
      expect(
        rows.filter((row) => expected.has(row.name)),
        `${server.name}'s ls`,
      ).toHaveLength(60)
    }
    // Settled, not passing through: the disks still hold the same copies.
    expect((await copiesOf(servers, expected)).holders).toEqual(copies.holders)
  }, 60_000)
})
