// Review (fixed: an entry whose queued content cannot be kept is set aside). Before: per-entry isolation stops at the user-lock queue. Applier.applyBatch hands the entries
// of locked names to UserLocks.enqueue (#queueHeld) before #run, outside the set-aside handling:
// when the queued content cannot be kept (here: no space in <state>/queue), the whole batch
// throws, PeerLink.#applyRetrying retries it for ever, and every later change of that peer waits
// behind it — the stall the change claims to end.
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'vitest'
import {
  canMountTmpfs,
  mountTmpfs,
  startCluster,
  waitFile,
  waitFor,
  writeRandomFile,
} from '../helpers/index.js'
import { clientOf, ok, waitLock } from '../locks/lock-helpers.js'

const MiB = 1 << 20

describe.skipIf(!canMountTmpfs())('review: a locked file whose queued update does not fit', () => {
  it("does not hold back the peer's other changes", async () => {
    const [a, b] = await startCluster(2, {
      beforeStart: (servers) => mountTmpfs(servers[1]!.stateDir, 16),
    })
    await a.write('plan.txt', 'base\n')
    await waitFile([b], 'plan.txt', 'base\n', 10_000)
    const alice = await clientOf(b, 'alice')
    await ok(alice.call('lock', { name: 'plan.txt' }))
    await waitLock(a, 'plan.txt', 'B')

    // A replaces plan.txt with 24 MiB (made beside the root, then renamed in: one version).
    const outside = path.join(path.dirname(a.root), 'big.tmp')
    await writeRandomFile(outside, 24 * MiB)
    fs.renameSync(outside, a.file('plan.txt'))
    await waitFor(() => b.output().includes('plan.txt'), { what: 'B to hear of it' })

    // A's next, unrelated change must still reach B.
    await a.write('after.txt', 'after\n')
    await waitFile([b], 'after.txt', 'after\n', 30_000)
  }, 120_000)
})
