// The placement survives kill -9 of every member at once (--replicas 2 of 3): the holder records
// are in each index database, so after the restart every member's `ls --json` lists every file
// with the same holders, and no copy moves (none made, none dropped: exactly 2 all along).
import { describe, expect, it } from 'vitest'
import { waitFor } from '../helpers/index.js'
import {
  copiesOf,
  makeFiles,
  placementOf,
  putFiles,
  startPlacementCluster,
  waitListingShowsHolders,
  waitSettled,
  watchCopies,
} from '../helpers/placement.js'

describe('placement: persistence', () => {
  it('kill -9 of all three members, restart: the same holders listed everywhere, no copy moved', async () => {
    // A long grace: members that start a few seconds apart must not heal each other meanwhile.
    const servers = await startPlacementCluster({
      members: 3,
      extraArgs: ['--rereplicate-after', '60s'],
    })
    const expected = await putFiles(servers[0]!, makeFiles(24, 64 * 1024))
    const placed = await waitSettled(servers, servers, expected, { min: 2, max: 2 })

    await Promise.all(servers.map((server) => server.kill9()))
    const watch = watchCopies(servers, expected, { min: 2, max: 2 })
    await Promise.all(servers.map((server) => server.start()))
    for (const server of servers) await waitListingShowsHolders(server, placed.holders)
    for (const server of servers)
      await waitFor(
        async () => {
          const p = await placementOf(server)
          return (
            p !== undefined && p.underReplicated === 0 && p.surplus === 0 && p.healing.queued === 0
          )
        },
        { timeoutMs: 15_000, intervalMs: 200, what: `${server.name}'s status: nothing to move` },
      )
    const { samples, violations } = await watch.stop()
    expect(samples).toBeGreaterThan(0)
    expect(violations).toEqual([])
    expect((await copiesOf(servers, expected)).holders).toEqual(placed.holders)
  }, 60_000)
})
