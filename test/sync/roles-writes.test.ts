// Roles: a primary P and secondaries S1, S2 (`--primary P`). Writes at a secondary are forwarded
// to the primary and answered once it committed them; the primary orders concurrent writes, so
// appends at two secondaries land once each and no conflict copy appears anywhere; with the
// primary stopped, writes at a secondary fail with ERR_PEER_UNREACHABLE and reads keep working.
import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { cliAs } from '../client/run-cli.js'
import {
  TestClient,
  treeOf,
  waitConverged,
  waitFile,
  waitFor,
  type ClusterServer,
} from '../helpers/index.js'
import { startRoles } from '../helpers/roles.js'

const LINES_PER_CLIENT = 25

async function appendLines(server: ClusterServer, client: string, name: string): Promise<void> {
  const conn = await TestClient.connect(server.port, { clientId: client })
  try {
    for (let i = 0; i < LINES_PER_CLIENT; i++) {
      const reply = await conn.append(name, Buffer.from(`${client} line ${i}\n`))
      if (!reply.ok) throw new Error(`append ${i} by ${client}: ${reply.error?.code}`)
    }
  } finally {
    await conn.close()
  }
}

function conflictCopies(tree: Map<string, string>): string[] {
  return [...tree.keys()].filter((name) => name.includes('.sync-conflict-'))
}

describe('roles: primary and secondaries', () => {
  it('appends at two secondaries at once: each line at the primary exactly once, no conflict copy', async () => {
    const { primary, secondaries } = await startRoles()
    const [s1, s2] = secondaries as [ClusterServer, ClusterServer]
    const alice = cliAs(s1.address, 'alice')
    const made = await alice.tandem(['--json', 'create', 'log.txt', '--text', 'start\n'])
    expect(made.code, made.stderr).toBe(0)
    // Each secondary appends while the other does (without forwarding, every append would be a
    // version of its own at each secondary, and the concurrent ones conflict copies).
    await Promise.all([appendLines(s1, 'alice', 'log.txt'), appendLines(s2, 'bob', 'log.txt')])
    const lines = (await readFile(primary.file('log.txt'), 'utf8')).trimEnd().split('\n')
    expect(lines[0]).toBe('start')
    for (const client of ['alice', 'bob'])
      for (let i = 0; i < LINES_PER_CLIENT; i++)
        expect(lines.filter((line) => line === `${client} line ${i}`)).toHaveLength(1)
    expect(lines).toHaveLength(1 + 2 * LINES_PER_CLIENT)
    // Each client's own lines in its order (one connection, answered in order).
    const order = (client: string) => lines.filter((line) => line.startsWith(`${client} `))
    expect(order('alice')).toEqual(
      Array.from({ length: LINES_PER_CLIENT }, (_, i) => `alice line ${i}`),
    )
    const tree = await waitConverged([primary, s1, s2])
    expect(conflictCopies(tree)).toEqual([])
    expect([...tree.keys()]).toEqual(['log.txt'])
  })

  it("a write at a secondary is on the primary's disk when the command returns", async () => {
    const { primary, secondaries } = await startRoles({ secondaries: 1 })
    const s1 = secondaries[0]!
    const alice = cliAs(s1.address, 'alice')
    const put = await alice.tandem(['--json', 'create', 'notes.txt', '--text', 'one\n'])
    expect(put.code, put.stderr).toBe(0)
    expect(await readFile(primary.file('notes.txt'), 'utf8')).toBe('one\n')
    const appended = await alice.tandem(['--json', 'append', 'notes.txt', '--text', 'two\n'])
    expect(appended.code, appended.stderr).toBe(0)
    expect(await readFile(primary.file('notes.txt'), 'utf8')).toBe('one\ntwo\n')
    const moved = await alice.tandem(['--json', 'mv', '--name', 'notes.txt', 'kept.txt'])
    expect(moved.code, moved.stderr).toBe(0)
    expect(await readFile(primary.file('kept.txt'), 'utf8')).toBe('one\ntwo\n')
    await expect(readFile(primary.file('notes.txt'))).rejects.toMatchObject({ code: 'ENOENT' })
    const removed = await alice.tandem(['--json', 'rm', '--name', 'kept.txt'])
    expect(removed.code, removed.stderr).toBe(0)
    await expect(readFile(primary.file('kept.txt'))).rejects.toMatchObject({ code: 'ENOENT' })
    // The secondary's own disk changed only by mirroring: it gets there, and nothing else is left.
    await waitFile([s1], 'kept.txt', null)
    expect([...(await treeOf(s1.root)).keys()]).toEqual([])
    // Its change log records the mirrored changes, its console the forwarding.
    expect(s1.output()).toMatch(/forwarded to the primary/)
  })

  it('pipelined writes of one client reach the primary in the order they were sent', async () => {
    const { primary, secondaries } = await startRoles({ secondaries: 1 })
    const s1 = secondaries[0]!
    const conn = await TestClient.connect(s1.port, { clientId: 'alice' })
    try {
      // An upload (empty or not), an append to it, a rename of it: sent without waiting, as `put`
      // sends many files. Were any two swapped, the append or the rename would fail or be lost.
      const replies = []
      for (let i = 0; i < 10; i++) {
        replies.push(conn.upload(`f${i}.txt`, Buffer.from(i % 2 === 0 ? '' : 'a')))
        replies.push(conn.append(`f${i}.txt`, Buffer.from('b')))
        replies.push(conn.rename(`f${i}.txt`, `g${i}.txt`))
      }
      for (const reply of await Promise.all(replies)) expect(reply.ok, reply.error?.code).toBe(true)
    } finally {
      await conn.close()
    }
    for (let i = 0; i < 10; i++)
      expect(await readFile(primary.file(`g${i}.txt`), 'utf8')).toBe(i % 2 === 0 ? 'b' : 'ab')
  })

  it('primary stopped: writes at the secondary get ERR_PEER_UNREACHABLE, reads work, it keeps serving', async () => {
    const { primary, secondaries } = await startRoles({ secondaries: 1 })
    const s1 = secondaries[0]!
    const alice = cliAs(s1.address, 'alice')
    const made = await alice.tandem(['--json', 'create', 'a.txt', '--text', 'kept\n'])
    expect(made.code, made.stderr).toBe(0)
    await waitFile([s1], 'a.txt', 'kept\n')
    const status = await s1.status()
    expect(status.role).toEqual({
      kind: 'secondary',
      primary: primary.address,
      name: 'P',
      reachable: true,
    })

    await primary.stop()
    for (const args of [
      ['append', 'a.txt', '--text', 'lost\n'],
      ['create', 'b.txt', '--text', 'new\n'],
      ['rm', '--name', 'a.txt'],
      ['lock', '--name', 'a.txt'],
    ]) {
      const run = await alice.tandem(['--json', ...args])
      expect(run.code, args.join(' ')).toBe(1)
      expect(JSON.parse(run.stdout.toString()).error.code, args.join(' ')).toBe(
        'ERR_PEER_UNREACHABLE',
      )
    }
    const read = await alice.tandem(['cat', '--name', 'a.txt'])
    expect(read.code, read.stderr).toBe(0)
    expect(read.stdout.toString()).toBe('kept\n')
    expect(await readFile(s1.file('a.txt'), 'utf8')).toBe('kept\n')
    const listed = await s1.list()
    expect(listed.map((row) => row.name)).toEqual(['a.txt'])
    const down = await waitFor(
      async () => {
        const role = (await s1.status()).role
        return role?.kind === 'secondary' && !role.reachable && role
      },
      { timeoutMs: 15_000, what: 'the primary to show unreachable' },
    )
    expect(down.primary).toBe(primary.address)

    // The primary comes back: writes go through again.
    await primary.start()
    await waitFor(
      async () => {
        const run = await alice.tandem(['--json', 'append', 'a.txt', '--text', 'again\n'])
        return run.code === 0
      },
      { timeoutMs: 15_000, intervalMs: 200, what: 'a write through the secondary again' },
    )
    expect(await readFile(primary.file('a.txt'), 'utf8')).toBe('kept\nagain\n')
  })
})
