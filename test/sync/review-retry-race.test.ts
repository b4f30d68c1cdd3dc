// Review (fixed: every write checks under its lock that the index still holds what was planned
// against). Before: a set-aside retry races the peer's normal stream on the same name. The retry's #take
// reads the index entry, fetches (long), then publishes and stores its (older) version without
// looking at the index again; meanwhile the normal stream recorded the peer's newer tombstone for
// that name ('record': no path lock, no disk check). The retry then writes the deleted file back
// and overwrites the tombstone in the index with the older version: B keeps a file that A deleted,
// for good (A sees B's version as older than its tombstone and skips it).
//
// To keep the retry's fetch of big.bin in flight while A's delete arrives, a bigger file set aside
// before it is retried in the same attempt: the content channel answers in order, and A opened
// big.bin when the pipelined request arrived, so deleting it afterwards does not stop its content.
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'vitest'
import {
  canMountTmpfs,
  mountTmpfs,
  resizeTmpfs,
  startCluster,
  waitFile,
  waitFor,
  writeRandomFile,
} from '../helpers/index.js'

const MiB = 1 << 20

function tempBytes(root: string): number {
  return fs
    .readdirSync(root)
    .filter((n) => n.startsWith('.tandem-tmp-'))
    .reduce(
      (sum, n) => sum + (fs.statSync(path.join(root, n), { throwIfNoEntry: false })?.size ?? 0),
      0,
    )
}

describe.skipIf(!canMountTmpfs())(
  'review: a set-aside retry and a newer entry of the same name',
  () => {
    it('a file deleted at A while its set-aside retry is in flight does not come back at B', async () => {
      const [a, b] = await startCluster(2, {
        beforeStart: (servers) => mountTmpfs(servers[1]!.root, 64),
      })
      // Both made beside A's root, then renamed in together: set aside at B in the same batch.
      const huge = path.join(path.dirname(a.root), 'a-huge.tmp')
      const big = path.join(path.dirname(a.root), 'big.tmp')
      await writeRandomFile(huge, 400 * MiB)
      await writeRandomFile(big, 80 * MiB)
      fs.renameSync(huge, a.file('a-huge.bin'))
      fs.renameSync(big, a.file('big.bin'))
      // Let their backoff grow (8 s), so that the free-space poll, not a timer, retries them: both
      // in one attempt, a-huge.bin first (rows are taken by `since`, then name).
      await waitFor(
        async () => {
          const rows = (await b.status()).sync.setAside ?? []
          return ['a-huge.bin', 'big.bin'].every((n) =>
            rows.some((e) => e.name === n && e.attempts >= 4),
          )
        },
        { timeoutMs: 40_000, intervalMs: 200, what: 'both set aside at B, tried 4 times' },
      )

      // Room at B: both are retried in one attempt; once a-huge.bin is arriving, A deletes big.bin.
      resizeTmpfs(b.root, 2000)
      await waitFor(() => tempBytes(b.root) > 16 * MiB, {
        timeoutMs: 30_000,
        intervalMs: 5,
        what: 'the retry under way at B',
      })
      fs.rmSync(a.file('big.bin'))

      await waitFor(() => fs.existsSync(b.file('a-huge.bin')), {
        timeoutMs: 60_000,
        intervalMs: 50,
        what: 'a-huge.bin at B',
      })
      await a.write('after.txt', 'after\n')
      await waitFile([b], 'after.txt', 'after\n', 15_000)
      // A deleted big.bin: B must not hold it.
      await waitFor(() => !fs.existsSync(b.file('big.bin')), {
        timeoutMs: 15_000,
        what: 'big.bin absent at B, as at A',
      })
    }, 180_000)
  },
)
