// Review (fixed: set-aside rows of a peer are dropped when it starts a new epoch). Before: set-aside rows compare the peer's seq across a change of the peer's epoch. A row kept
// from A's old epoch (a high seq) makes SetAside.add drop every entry of A's new epoch for that
// name (its seq is lower: "a newer one already waits"), while A's progress moves past it; the
// old row is then retried, finds A's old content gone (Superseded) and is cleared. A's current
// version of the name never reaches B: neither applied nor set aside.
import fs from 'node:fs'
import { describe, it } from 'vitest'
import {
  startCluster,
  waitFile,
  waitFor,
  waitPeersUp,
  type ClusterServer,
} from '../helpers/index.js'

async function setAsideAt(server: ClusterServer) {
  return (await server.status()).sync.setAside ?? []
}

async function seqOf(server: ClusterServer): Promise<number> {
  return (await server.status()).sync.seq ?? 0
}

describe("review: set-aside rows across a peer's new epoch", () => {
  it("a version from A's new epoch still reaches B once what blocked it is gone", async () => {
    const [a, b] = await startCluster(2)
    // Push A's sequence up (30 files made, then deleted, 10 at a time).
    for (let i = 0; i < 30; i++) await a.write(`churn/${i}.txt`, `churn ${i}\n`)
    await waitFor(async () => (await seqOf(a)) >= 30, { what: 'A indexed the churn' })
    for (let burst = 0; burst < 3; burst++) {
      const before = await seqOf(a)
      for (let i = burst * 10; i < burst * 10 + 10; i++) fs.rmSync(a.file(`churn/${i}.txt`))
      await waitFor(async () => (await seqOf(a)) >= before + 10, { what: 'A indexed deletions' })
    }
    await a.write('keep.txt', 'keep\n')
    await waitFile([b], 'keep.txt', 'keep\n', 10_000)

    // On B a symlink is in the way of n.txt: A's n.txt (seq > 60 in A's first epoch) is set aside.
    fs.writeFileSync(b.file('target.txt'), 'target\n')
    fs.symlinkSync('target.txt', b.file('n.txt'))
    await a.write('n.txt', 'v1\n')
    await waitFor(async () => (await setAsideAt(b)).some((e) => e.name === 'n.txt'), {
      timeoutMs: 10_000,
      what: 'n.txt set aside at B',
    })

    // A's index is removed (README: to take every file from the peers); A starts a new epoch and
    // numbers its entries from 1 again. Then A changes n.txt.
    await a.stop()
    for (const f of ['index.db', 'index.db-wal', 'index.db-shm'])
      fs.rmSync(`${a.stateDir}/${f}`, { force: true })
    await a.start()
    await waitPeersUp(b, 1)
    fs.writeFileSync(a.file('n.txt'), 'v2, made in the new epoch\n')
    await a.write('after.txt', 'after\n')
    await waitFile([b], 'after.txt', 'after\n', 15_000) // B went past A's n.txt v2

    // Remove what blocked n.txt at B: B must now hold A's current n.txt.
    fs.rmSync(b.file('n.txt'))
    await waitFile([b], 'n.txt', 'v2, made in the new epoch\n', 30_000)
  }, 120_000)
})
