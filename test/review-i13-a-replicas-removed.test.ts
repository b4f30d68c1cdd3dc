// Review of issue 13 (server sync side): "the default is every member, which is today's full
// mirroring". A cluster that ran with --replicas and is restarted without it (every member, as the
// README asks: "or none of them with it") should mirror every file to every member again. It
// does not: the index keeps the live entries without a fingerprint ("held elsewhere"), the scanner
// takes their absence as no change (unconditionally), the applier only fetches on a new entry,
// and with no --replicas there is no replication driver to fetch what is missing. Each member
// keeps its old share for good (and keeps answering ERR_MOVED for the rest).
import { describe, it } from 'vitest'
import { ClusterServer, showOutputOnFailure, waitPeersUp } from './helpers/index.js'
import { makeFiles, putFiles, startPlacementCluster, waitCopies } from './helpers/placement.js'

describe('review i13-a: --replicas removed from every member', () => {
  it('full mirroring again: every file on every disk', async () => {
    // --replicas 1 of 2: each file only at the member it was put through.
    const servers = await startPlacementCluster({ members: 2, replicas: 1 })
    const [a] = servers as [ClusterServer, ClusterServer]
    const expected = await putFiles(a, makeFiles(6, 1024))
    await waitCopies(servers, expected, { min: 1, what: 'each file on 1 disk' })

    // Every member stopped and started again without --replicas (same disks, index, ports).
    for (const s of servers) await s.stop()
    const mirrored = servers.map(
      (s) =>
        new ClusterServer(
          s.name,
          s.root,
          s.stateDir,
          s.port,
          s.syncPort,
          s.peers,
          s.extraArgs.filter((arg, i, all) => arg !== '--replicas' && all[i - 1] !== '--replicas'),
        ),
    )
    showOutputOnFailure(mirrored)
    await Promise.all(mirrored.map((s) => s.start()))
    await Promise.all(mirrored.map((s) => waitPeersUp(s, 1, 20_000)))
    await waitCopies(mirrored, expected, {
      min: 2,
      timeoutMs: 30_000,
      what: 'every file on both disks (full mirroring)',
    })
  }, 120_000)
})
