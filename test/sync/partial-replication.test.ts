// Partial replication on loopback: three real servers, each with the other two as --peer, and
// --replicas 2. A file made at A ends on exactly two disks (A's and one other), verified by
// SHA-256, while the third member's index lists it live with no fingerprint ("known here, held
// elsewhere") and its listing names the two holders. A new version, a rename and a delete at A
// then reach every index, and the disks of the holders only: the third member's disk never gets
// the file, and its inventory after a restart records nothing for it (no tombstone). A client's
// folder mv and rm -r at a member holding only some of the files reach every disk and index.
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, rename, rm } from 'node:fs/promises'
import Database from 'better-sqlite3'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { sha256Of, startCluster, waitFor, type ClusterServer } from '../helpers/index.js'

interface IndexRow {
  hash: string | null
  deleted: number
  fp_size: number | null
  file_id: string | null
  creator: string | null
}

/** A server's index row for `name`, read from its index.db (read-only, as other threads do). */
function indexRow(server: ClusterServer, name: string): IndexRow | undefined {
  const db = new Database(path.join(server.stateDir, 'index.db'), { readonly: true })
  try {
    return db
      .prepare('SELECT hash, deleted, fp_size, file_id, creator FROM files WHERE name = ?')
      .get(name) as IndexRow | undefined
  } finally {
    db.close()
  }
}

/** The servers whose disk holds `name` with this content. */
function holders(servers: readonly ClusterServer[], name: string, content: string): string[] {
  const hash = sha256Of(content)
  return servers
    .filter((s) => existsSync(s.file(name)) && sha256Of(readFileSync(s.file(name))) === hash)
    .map((s) => s.name)
}

/**
 * `name` is on exactly two disks with `content`, A's among them, and the third member indexes it
 * live, that content, no fingerprint. Checked until it has held for 1 s running (a third copy
 * arriving late would show), or the deadline passes.
 */
async function onTwoDisks(
  servers: readonly ClusterServer[],
  name: string,
  content: string,
): Promise<{ holders: string[]; third: ClusterServer }> {
  let since: number | undefined
  let last = ''
  return waitFor(
    () => {
      const held = holders(servers, name, content)
      const third = servers.find((s) => !held.includes(s.name))
      const row = third && indexRow(third, name)
      const ok =
        held.length === 2 &&
        held.includes('A') &&
        row?.deleted === 0 &&
        row.hash === sha256Of(content) &&
        row.fp_size === null &&
        !existsSync(third!.file(name))
      const now = held.join(',')
      if (!ok || now !== last) since = undefined
      last = now
      if (!ok) return undefined
      since ??= Date.now()
      return Date.now() - since >= 1_000 ? { holders: held, third: third! } : undefined
    },
    { timeoutMs: 20_000, what: `'${name}' on exactly two disks, known at the third` },
  )
}

describe('partial replication (--replicas 2, three servers on loopback)', () => {
  it('a file made at A ends on exactly 2 disks; the third indexes it without content', async () => {
    const servers = await startCluster(3, { extraArgs: ['--replicas', '2'] })
    const [a] = servers

    await a.write('docs/made-at-a.txt', 'made at A\n')
    const { holders: first, third } = await onTwoDisks(servers, 'docs/made-at-a.txt', 'made at A\n')
    const atA = indexRow(a, 'docs/made-at-a.txt')!
    expect(atA.creator).toBe('A')
    expect(atA.file_id).toMatch(/^[A-Za-z0-9_-]{22}$/)
    // Every member knows it by the same id (placement is by id: every member computes the same).
    for (const s of servers) expect(indexRow(s, 'docs/made-at-a.txt')?.file_id).toBe(atA.file_id)

    // The third member's listing shows it, held by the other two.
    const row = await waitFor(
      async () =>
        (await third.list()).find(
          (r) => r.name === 'docs/made-at-a.txt' && [...r.servers].sort().join() === first.join(),
        ),
      { what: "the third member's listing naming the two holders" },
    )
    expect(row.servers).not.toContain(third.name)

    // A new version at A: the same two disks, the third's index follows.
    await a.write('docs/made-at-a.txt', 'made at A, edited\n')
    const edited = await onTwoDisks(servers, 'docs/made-at-a.txt', 'made at A, edited\n')
    expect(edited.holders).toEqual(first) // the id did not change: nor did its place

    // A rename at A moves no copy: the same holders, the third records the pair.
    await a.write('other.txt', 'x') // something else in the tree meanwhile
    await mkdir(a.file('moved'), { recursive: true })
    await rename(a.file('docs/made-at-a.txt'), a.file('moved/made-at-a.txt'))
    const moved = await onTwoDisks(servers, 'moved/made-at-a.txt', 'made at A, edited\n')
    expect(moved.holders).toEqual(first)
    for (const s of servers) {
      await waitFor(() => indexRow(s, 'docs/made-at-a.txt')?.deleted === 1, {
        what: `${s.name} records the rename's old name as deleted`,
      })
      expect(indexRow(s, 'moved/made-at-a.txt')?.file_id).toBe(atA.file_id)
    }

    // A restart of the third member: its inventory finds no file, and records nothing for it.
    await moved.third.restart()
    await waitFor(async () => (await moved.third.status()).sync.state === 'running', {
      what: 'the third member running again',
    })
    expect(indexRow(moved.third, 'moved/made-at-a.txt')).toMatchObject({
      deleted: 0,
      fp_size: null,
    })
    await onTwoDisks(servers, 'moved/made-at-a.txt', 'made at A, edited\n')

    // A delete at A: gone from both disks and from every index.
    await rm(a.file('moved/made-at-a.txt'))
    await waitFor(
      () =>
        servers.every(
          (s) =>
            !existsSync(s.file('moved/made-at-a.txt')) &&
            indexRow(s, 'moved/made-at-a.txt')?.deleted === 1,
        ),
      { timeoutMs: 15_000, what: 'the delete on every disk and in every index' },
    )
  }, 90_000)

  it("a client's folder mv and rm -r at a member holding only some of its files", async () => {
    const servers = await startCluster(3, { extraArgs: ['--replicas', '2'] })
    const [a, b, c] = servers
    const names = Array.from({ length: 8 }, (_, i) => `dir/f${i}.txt`)
    for (const name of names) await a.write(name, `content of ${name}\n`)
    const before = new Map<string, string[]>()
    for (const name of names)
      before.set(name, (await onTwoDisks(servers, name, `content of ${name}\n`)).holders)
    // Each file's second copy is at B or C: the one holding fewer knows at least half of them
    // only by their entries. The folder is moved there, and deleted at the other.
    const heldAt = (s: ClusterServer) => names.filter((n) => before.get(n)!.includes(s.name))
    const [mover, remover] = heldAt(b).length <= heldAt(c).length ? [b, c] : [c, b]
    expect(heldAt(mover).length).toBeLessThanOrEqual(names.length / 2)

    await mover.cli('mv', 'dir', 'moved')
    for (const name of names) {
      const to = name.replace('dir/', 'moved/')
      const now = await onTwoDisks(servers, to, `content of ${name}\n`)
      expect(now.holders, to).toEqual(before.get(name)) // a rename moves no copy
    }
    await waitFor(() => servers.every((s) => names.every((n) => indexRow(s, n)?.deleted === 1)), {
      what: 'the old names deleted in every index',
    })

    await remover.cli('rm', '-r', 'moved')
    const moved = names.map((n) => n.replace('dir/', 'moved/'))
    await waitFor(
      () =>
        servers.every((s) =>
          moved.every((n) => !existsSync(s.file(n)) && indexRow(s, n)?.deleted === 1),
        ),
      { timeoutMs: 15_000, what: 'the folder gone from every disk and every index' },
    )
    for (const s of servers) expect((await s.status()).sync.state).toBe('running')
  }, 90_000)
})
