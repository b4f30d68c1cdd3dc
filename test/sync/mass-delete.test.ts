// A data directory emptied or removed (while its server was stopped, or under it while it runs) is
// not propagated as a mass deletion: the server refuses to sync (status says so), and the peer
// keeps every file.
import fs from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import type { LogEntry } from '../../src/protocol/index.js'
import { sha256Of, startCluster, waitFor, waitTree, type ClusterServer } from '../helpers/index.js'

const NAMES = ['one.txt', 'two.txt', 'reports/q1.txt', 'reports/2026/q2.txt']

/** Two servers holding the same few files (made on A). */
async function mirroredPair() {
  const [a, b] = await startCluster(2)
  const files = new Map<string, string>()
  for (const name of NAMES) {
    await a.write(name, `content of ${name}\n`)
    files.set(name, sha256Of(`content of ${name}\n`))
  }
  await waitTree([a, b], files)
  return { a, b, files }
}

async function emptyDir(dir: string): Promise<void> {
  for (const entry of await fs.readdir(dir))
    await fs.rm(`${dir}/${entry}`, { recursive: true, force: true })
}

/**
 * A refuses to sync; once B has heard from A since `since` and has indexed a change of its own,
 * B still holds every file and has deleted nothing.
 */
async function refusedAndKept(
  a: ClusterServer,
  b: ClusterServer,
  files: Map<string, string>,
  since: number,
): Promise<void> {
  await waitFor(async () => (await a.status()).sync?.state === 'refused', {
    timeoutMs: 10_000,
    intervalMs: 100,
    what: "A's sync state to be 'refused'",
  })
  // A has had its chance to reach B: B has heard from A since then (a refusing server answers
  // its peers with the refusal, so the link itself does not come up).
  await waitFor(
    async () => {
      const peer = (await b.status()).peers.find((p) => p.name === 'A')
      return peer?.lastHeard != null && peer.lastHeard >= since
    },
    { timeoutMs: 10_000, intervalMs: 100, what: 'B to hear from A' },
  )
  // ... and B has indexed a change of its own since: its state is current.
  await b.write('after.txt', 'made on B afterwards\n')
  await waitFor(async () => (await b.status()).sync?.files === files.size + 1, {
    what: 'B to index after.txt',
  })
  await waitTree([b], new Map([...files, ['after.txt', sha256Of('made on B afterwards\n')]]))
  const deletes = (await b.cli<LogEntry[]>('log')).filter((e) => e.op === 'sync-delete')
  expect(deletes).toEqual([])
  expect((await a.status()).sync?.state).toBe('refused')
}

describe('an emptied or vanished data directory', () => {
  it.each(['emptied', 'removed'])(
    'A’s directory %s while A is stopped: A refuses to sync, B keeps every file',
    async (how) => {
      const { a, b, files } = await mirroredPair()
      expect(await a.stop()).toBe(0)
      if (how === 'emptied') await emptyDir(a.root)
      else await fs.rm(a.root, { recursive: true })
      const restartedAt = Date.now()
      await a.start()
      await refusedAndKept(a, b, files, restartedAt)
    },
    45_000,
  )

  // Emptying it file by file while A runs is an ordinary deletion, mirrored; the folder itself
  // vanishing is not.
  it('A’s directory removed while A runs: A refuses to sync, B keeps every file', async () => {
    const { a, b, files } = await mirroredPair()
    const at = Date.now()
    await fs.rm(a.root, { recursive: true })
    await refusedAndKept(a, b, files, at)
  }, 45_000)
})

describe('deletions while running', () => {
  it('everything in A’s directory deleted at once (rm -rf dir/*, 30 files): refused, B keeps them', async () => {
    const [a, b] = await startCluster(2)
    const files = new Map<string, string>()
    for (let i = 0; i < 30; i++) {
      const name = i % 2 ? `docs/f${i}.txt` : `f${i}.txt`
      await a.write(name, `file ${i}\n`)
      files.set(name, sha256Of(`file ${i}\n`))
    }
    await waitTree([a, b], files)
    const at = Date.now()
    await emptyDir(a.root)
    await refusedAndKept(a, b, files, at)
  }, 45_000)

  it('a folder holding the only two files deleted: an ordinary deletion, and sync goes on', async () => {
    const [a, b] = await startCluster(2)
    await a.write('probe/x.txt', 'x\n')
    await a.write('probe/y.txt', 'y\n')
    await waitTree(
      [b],
      new Map([
        ['probe/x.txt', sha256Of('x\n')],
        ['probe/y.txt', sha256Of('y\n')],
      ]),
    )
    await fs.rm(`${a.root}/probe`, { recursive: true })
    await waitTree([b], new Map())
    await a.write('next.txt', 'next\n')
    await waitTree([b], new Map([['next.txt', sha256Of('next\n')]]))
    expect((await a.status()).sync?.state).toBe('running')
  }, 45_000)
})
