// Folders as one operation between two real servers: a folder renamed at A reaches B as renames
// (B's change log shows sync-rename for every file, no sync-pull, and B fetched no content), also
// when B was down during the move; a folder of 200 files deleted by a client at A is mirrored as
// 200 deletions, never mistaken for a vanished data directory (A keeps syncing).
import { describe, expect, it } from 'vitest'
import type { LogEntry } from '../../src/protocol/index.js'
import {
  sha256Of,
  startCluster,
  TestClient,
  waitFor,
  waitPeersUp,
  waitTree,
  type ClusterServer,
} from '../helpers/index.js'

const FILES = 50

/** `count` files under `folder` (two levels), written on `server`, with their hashes. */
async function makeFolder(
  server: ClusterServer,
  folder: string,
  count: number,
): Promise<Map<string, string>> {
  const files = new Map<string, string>()
  for (let i = 0; i < count; i++) {
    const name = `${folder}/${i % 5 === 0 ? 'deep/' : ''}file-${String(i).padStart(3, '0')}.txt`
    const content = `file ${i} of ${folder}: ${'x'.repeat(i * 37)}\n`
    await server.write(name, content)
    files.set(name, sha256Of(content))
  }
  return files
}

function movedTo(files: ReadonlyMap<string, string>, from: string, to: string) {
  return new Map(
    [...files].map(([name, hash]) => [
      name.startsWith(`${from}/`) ? to + name.slice(from.length) : name,
      hash,
    ]),
  )
}

/** What B fetched from A so far (status: content received whole). */
async function fetchedFrom(b: ClusterServer, peer: string) {
  const status = await b.status()
  const fetched = status.peers.find((p) => p.name === peer)?.fetched
  if (!fetched) throw new Error(`B's status says nothing of what it fetched from ${peer}`)
  return fetched
}

async function ops(server: ClusterServer, op: string, since = 0): Promise<LogEntry[]> {
  return (await server.cli<LogEntry[]>('log', '--limit', '100000')).filter(
    (e) => e.op === op && e.seq > since,
  )
}

async function lastSeq(server: ClusterServer): Promise<number> {
  return Math.max(0, ...(await server.cli<LogEntry[]>('log')).map((e) => e.seq))
}

async function client(server: ClusterServer): Promise<TestClient> {
  const c = await TestClient.connect(server.port, { clientId: 'folder-tester' })
  return c
}

describe('a folder renamed at A', () => {
  it('reaches B as one rename per file: no content sent again', async () => {
    const [a, b] = await startCluster(2)
    const files = await makeFolder(a, 'projects/alpha', FILES)
    await a.write('other.txt', 'beside\n')
    files.set('other.txt', sha256Of('beside\n'))
    await waitTree([a, b], files, 20_000)
    const before = await fetchedFrom(b, 'A')
    expect(before.files).toBe(FILES + 1)
    const seq = await lastSeq(b)

    const c = await client(a)
    const reply = await c.rename('projects/alpha', 'archive/alpha-2026')
    await c.close()
    expect(reply.ok, reply.error?.message).toBe(true)
    expect(reply.result).toMatchObject({ files: FILES, folder: true })

    const moved = movedTo(files, 'projects/alpha', 'archive/alpha-2026')
    await waitTree([a, b], moved, 20_000)
    const renames = await ops(b, 'sync-rename', seq)
    expect(renames).toHaveLength(FILES)
    for (const entry of renames) expect(entry.to).toBe(`archive/alpha-2026${entry.name!.slice(14)}`)
    expect(await ops(b, 'sync-pull', seq)).toEqual([])
    expect(await fetchedFrom(b, 'A')).toEqual(before)
    // A's own log: one entry for the folder.
    const mine = (await ops(a, 'rename')).filter((e) => e.client === 'folder-tester')
    expect(mine.map((e) => [e.name, e.to, e.detail])).toEqual([
      ['projects/alpha', 'archive/alpha-2026', `folder, ${FILES} files`],
    ])
  }, 60_000)

  it('while B is down: B catches up by renames when it comes back', async () => {
    const [a, b] = await startCluster(2)
    const files = await makeFolder(a, 'photos', FILES)
    await waitTree([a, b], files, 20_000)
    const seq = await lastSeq(b)
    expect(await b.stop()).toBe(0)

    const c = await client(a)
    const reply = await c.rename('photos', 'albums/photos-old')
    await c.close()
    expect(reply.ok, reply.error?.message).toBe(true)
    // A has indexed the move (its sync sequence went up by a new entry and a tombstone per file).
    const moved = movedTo(files, 'photos', 'albums/photos-old')
    await waitTree([a], moved)

    await b.start()
    await waitPeersUp(b, 1)
    await waitTree([a, b], moved, 20_000)
    expect(await ops(b, 'sync-rename', seq)).toHaveLength(FILES)
    expect(await ops(b, 'sync-pull', seq)).toEqual([])
    // B's process is new: everything it fetched since it started would show here.
    expect(await fetchedFrom(b, 'A')).toEqual({ files: 0, bytes: 0 })
  }, 60_000)
})

describe('a folder deleted by a client at A', () => {
  it('200 files, nearly all of A: every one deleted at B, A keeps syncing', async () => {
    const [a, b] = await startCluster(2)
    const files = await makeFolder(a, 'bulk', 200)
    await a.write('kept.txt', 'kept\n')
    await waitTree([a, b], new Map([...files, ['kept.txt', sha256Of('kept\n')]]), 30_000)
    const seq = await lastSeq(b)

    const c = await client(a)
    const plain = await c.delete('bulk')
    expect(plain.error?.code).toBe('ERR_IS_DIRECTORY')
    const reply = await c.delete('bulk', { recursive: true })
    await c.close()
    expect(reply.ok, reply.error?.message).toBe(true)
    expect(reply.result).toEqual({ name: 'bulk', files: 200, folder: true })

    await waitTree([a, b], new Map([['kept.txt', sha256Of('kept\n')]]), 20_000)
    await waitFor(async () => (await ops(b, 'sync-delete', seq)).length === 200, {
      what: 'B to log 200 sync-delete entries',
    })
    expect((await a.status()).sync?.state).toBe('running')
    // Still syncing afterwards, both ways.
    await b.write('after.txt', 'after\n')
    await waitTree(
      [a, b],
      new Map([
        ['kept.txt', sha256Of('kept\n')],
        ['after.txt', sha256Of('after\n')],
      ]),
    )
    expect((await a.status()).sync?.state).toBe('running')
  }, 60_000)
})
