// kill -9 in the middle of moving copies, --replicas 2: of the member receiving copies while it
// heals a lost member's files, of the member joining while it receives its share, and of a member
// dropping its surplus copies once the joining one has them. No copy is lost (every file keeps at
// least 2 copies on the disks all along), no disk file is torn (each has the SHA-256 of the
// version put; a half-copied file is only ever a temp file, gone after the restart), and after
// the restart the cluster converges to exactly 2 copies of every file, its holders listed.
import { describe, expect, it } from 'vitest'
import type { ClusterServer } from '../helpers/index.js'
import { TEMP_PREFIX } from '../../src/protocol/index.js'
import { tempFilesIn, waitFor, walkTree } from '../helpers/index.js'
import {
  copiesOf,
  describeCopies,
  filesPerServer,
  makeFiles,
  putFiles,
  REREPLICATE_AFTER_MS,
  startPlacementCluster,
  waitSettled,
  watchCopies,
} from '../helpers/placement.js'

const MiB = 1024 * 1024
/** 24 files of 1 MiB: the copies of a member's share (about 12 MiB) take a moment under the heal throttle. */
const FILES = 24

/** Wait until a copy is in flight to `server` (a temp file in its data dir), then kill -9 it. */
async function killWhileReceiving(server: ClusterServer, timeoutMs: number): Promise<void> {
  await waitFor(() => tempFilesIn(server.root).length > 0, {
    timeoutMs,
    intervalMs: 5,
    what: `a copy in flight to ${server.name}`,
  })
  await server.kill9()
}

describe('placement: kill -9 while copies move', () => {
  it('during healing: kill -9 the receiving member; no copy lost, none torn; converges after restart', async () => {
    const servers = await startPlacementCluster({ members: 3 })
    const [a, b, c] = servers as [ClusterServer, ClusterServer, ClusterServer]
    const expected = await putFiles(a, makeFiles(FILES, MiB))
    await waitSettled(servers, servers, expected, { min: 2, max: 2, timeoutMs: 45_000 })

    const watch = watchCopies([a, b, c], expected, { min: 2, max: 3 })
    await c.kill9()
    // B, the only survivor without every file, heals C's share from A: kill it mid-copy.
    await killWhileReceiving(b, REREPLICATE_AFTER_MS + 20_000)
    const atKill = await copiesOf([a, b, c], expected)
    expect(atKill.torn, describeCopies(atKill)).toEqual([])
    expect(filesPerServer(atKill, servers).get('A'), describeCopies(atKill)).toBe(FILES)
    const healedBeforeKill = filesPerServer(atKill, servers).get('B')!

    await b.start()
    expect(tempFilesIn(b.root), 'temp files left after the restart').toEqual([])
    // The listing's holders are the disks that hold a file, C's (down) too: peer_files keeps them.
    await waitSettled(servers, [b], expected, {
      min: 2,
      max: 3,
      timeoutMs: REREPLICATE_AFTER_MS + 30_000,
      what: 'every file on A and B after B restarted',
      also: (copies) =>
        [...copies.holders.values()].every((list) => list.includes('A') && list.includes('B')) ||
        'every file on both A and B',
    })
    expect(healedBeforeKill).toBeLessThan(FILES)

    // C back too: rebalanced to exactly 2 copies over the three.
    await c.start()
    await waitSettled(servers, servers, expected, { min: 2, max: 2, timeoutMs: 30_000 })
    const { violations } = await watch.stop()
    expect(violations).toEqual([])
  }, 120_000)

  it('during rebalancing: kill -9 the joining member mid-copy; no copy lost, none torn; converges after restart', async () => {
    const servers = await startPlacementCluster({ members: 4, started: 3 })
    const [a, b, c, d] = servers as [ClusterServer, ClusterServer, ClusterServer, ClusterServer]
    const expected = await putFiles(a, makeFiles(FILES, MiB))
    await waitSettled([a, b, c], [a, b, c], expected, { min: 2, max: 2, timeoutMs: 45_000 })

    // Old members first (they only lose copies), D last (it only gains).
    const watch = watchCopies([a, b, c, d], expected, { min: 2, max: 3 })
    await d.start()
    await killWhileReceiving(d, 20_000)
    const atKill = await copiesOf([a, b, c, d], expected)
    expect(atKill.torn, describeCopies(atKill)).toEqual([])
    expect(filesPerServer(atKill, servers).get('A'), describeCopies(atKill)).toBe(FILES)

    await d.start()
    expect(tempFilesIn(d.root), 'temp files left after the restart').toEqual([])
    const after = await waitSettled(servers, servers, expected, {
      min: 2,
      max: 2,
      timeoutMs: 45_000,
      what: 'exactly 2 copies of every file over the four, D holding some',
      also: (copies) => (filesPerServer(copies, servers).get('D') ?? 0) > 0 || 'D holding files',
    })
    const { violations } = await watch.stop()
    expect(violations, describeCopies(after)).toEqual([])
  }, 120_000)

  it('during rebalancing: kill -9 a member as it drops its surplus copies; none lost, none torn; converges after restart', async () => {
    const servers = await startPlacementCluster({ members: 4, started: 3 })
    const [a, b, c, d] = servers as [ClusterServer, ClusterServer, ClusterServer, ClusterServer]
    const expected = await putFiles(a, makeFiles(FILES, MiB))
    const before = await waitSettled([a, b, c], [a, b, c], expected, {
      min: 2,
      max: 2,
      timeoutMs: 45_000,
    })
    const heldByB = filesPerServer(before, servers).get('B')!

    const watch = watchCopies([a, b, c, d], expected, { min: 2, max: 3 })
    await d.start()
    // B gives D its share: kill it once it has dropped a first copy (the rest still to drop).
    await waitFor(() => filesIn(b) < heldByB, {
      timeoutMs: 30_000,
      intervalMs: 5,
      what: 'B to drop a first copy',
    })
    await b.kill9()
    const atKill = await copiesOf([a, b, c, d], expected)
    expect(atKill.torn, describeCopies(atKill)).toEqual([])
    expect(filesPerServer(atKill, servers).get('A'), describeCopies(atKill)).toBe(FILES)

    await b.start()
    const after = await waitSettled(servers, servers, expected, {
      min: 2,
      max: 2,
      timeoutMs: 45_000,
      what: 'exactly 2 copies of every file over the four after B restarted',
      also: (copies) => (filesPerServer(copies, servers).get('D') ?? 0) > 0 || 'D holding files',
    })
    const { violations } = await watch.stop()
    expect(violations, describeCopies(after)).toEqual([])
  }, 120_000)
})

/** Regular files in `server`'s data directory (temp files left out). */
function filesIn(server: ClusterServer): number {
  return walkTree(server.root).filter(
    (name) => !name.startsWith(`batch/${TEMP_PREFIX}`) && name.startsWith('batch/'),
  ).length
}
