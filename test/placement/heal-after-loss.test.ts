// kill -9 of one member of three for good, --replicas 2, --rereplicate-after 2s: within the grace
// period + 30 s every file has 2 live copies again, each checked by the SHA-256 of the file on
// the disk, the files that were on the lost member copied anew from the one copy left; nothing
// is dropped on the way, and `status` shows the files under-replicated meanwhile, then none.
import { describe, expect, it } from 'vitest'
import type { ClusterServer } from '../helpers/index.js'
import { waitFor } from '../helpers/index.js'
import {
  makeFiles,
  placementOf,
  putFiles,
  REREPLICATE_AFTER_MS,
  startPlacementCluster,
  waitCopies,
  waitSettled,
  watchCopies,
} from '../helpers/placement.js'

describe('placement: healing after a member is lost', () => {
  it('kill -9 C for good: within --rereplicate-after + 30 s every file has 2 live copies (SHA-256)', async () => {
    const servers = await startPlacementCluster({ members: 3 })
    const [a, b, c] = servers as [ClusterServer, ClusterServer, ClusterServer]
    const expected = await putFiles(a, makeFiles(30, 64 * 1024))
    // Settled first (each status has planned with every copy known): the figures read after the
    // kill are then the kill's, not a plan made while the puts were still being copied.
    const before = await waitSettled(servers, servers, expected, { min: 2, max: 2 })
    const lost = [...before.holders].filter(([, list]) => list.includes('C')).length
    expect(lost, 'C held some files').toBeGreaterThan(0)

    // Every disk, C's too: no member drops a copy while the lost one's files are copied anew.
    const watch = watchCopies([a, b, c], expected, { min: 2, max: 3 })
    await c.kill9()
    // While C's files have one live copy, A's status counts them under-replicated.
    const under = await waitFor(
      async () => {
        const count = (await placementOf(a))?.underReplicated ?? 0
        return count > 0 && count
      },
      {
        timeoutMs: REREPLICATE_AFTER_MS + 10_000,
        intervalMs: 50,
        what: 'A to show under-replicated files',
      },
    )
    expect(under).toBeLessThanOrEqual(lost)
    await waitCopies([a, b], expected, {
      min: 2,
      timeoutMs: REREPLICATE_AFTER_MS + 30_000,
      what: 'every file on both survivors',
    })
    const { samples, violations } = await watch.stop()
    expect(samples).toBeGreaterThan(0)
    expect(violations).toEqual([])

    // status says so too: nothing under-replicated, nothing queued.
    for (const server of [a, b]) {
      const placement = await waitFor(
        async () => {
          const p = await placementOf(server)
          return p !== undefined && p.underReplicated === 0 && p.healing.queued === 0 && p
        },
        { timeoutMs: 10_000, intervalMs: 200, what: `${server.name}'s status to show healed` },
      )
      expect(placement.replicas).toBe(2)
      expect(placement.files).toBe(30)
      expect(placement.held).toBe(30)
    }
    // B made the new copies, and says so.
    expect((await placementOf(b))?.healing.copied).toBeGreaterThanOrEqual(lost)
  }, 60_000)
})
