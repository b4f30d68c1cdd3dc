// The listing tells when copies differ: a user lock at A holds B's newer version back, and A's
// `ls` says so (JSON: differs with both copies; text: the ≠ mark and who holds what) until the
// unlock applies it. Real servers, the real CLI.
import { describe, expect, it } from 'vitest'
import { runCli } from '../client/run-cli.js'
import { sha256Of, waitFile, waitFor, type ListRow } from '../helpers/index.js'
import { ok, planLockedAtA, waitLock } from './lock-helpers.js'

const NEWER = 'a newer version, written at B\n'

describe('ls shows copies that differ', () => {
  it('while a lock at A holds back B’s newer version, and not after the unlock', async () => {
    const { a, b, alice } = await planLockedAtA()
    const rowAt = async (server: typeof a): Promise<ListRow | undefined> =>
      (await server.cli<ListRow[]>('ls')).find((row) => row.name === 'plan.txt')

    await b.write('plan.txt', NEWER)
    await waitLock(a, 'plan.txt', 'A', 1) // B's version waits in A's queue
    const held = await waitFor(async () => (await rowAt(a))?.differs === true && rowAt(a), {
      what: 'A’s ls to mark plan.txt as differing',
    })
    const row = held as ListRow
    expect(row.servers).toEqual(['A', 'B'])
    expect(row.size).toBe(5) // A's own copy, "base\n"
    expect(row.copies).toEqual([
      { server: 'A', size: 5, mtime: expect.any(Number), sha256: sha256Of('base\n') },
      { server: 'B', size: NEWER.length, mtime: expect.any(Number), sha256: sha256Of(NEWER) },
    ])
    // B's listing says the same from its side.
    const atB = await waitFor(async () => (await rowAt(b))?.differs === true && rowAt(b), {
      what: 'B’s ls to mark plan.txt as differing',
    })
    expect((atB as ListRow).copies?.map((c) => [c.server, c.size])).toEqual([
      ['A', 5],
      ['B', NEWER.length],
    ])

    // The plain listing: the ≠ mark in the servers column, and a line saying who holds what.
    const text = await runCli(['--server', a.address, 'ls'])
    expect(text.code).toBe(0)
    const lines = text.stdout.toString('utf8').split('\n')
    const at = lines.findIndex((line) => /\bplan\.txt\b/.test(line))
    expect(lines[at]).toMatch(/\s5 B\s.*\sA≠B\s/)
    const copiesLine = new RegExp(`^\\s+≠ A: 5 B \\S.* · B: ${NEWER.length} B \\S.*\\(newest\\)$`)
    expect(lines[at + 1]).toMatch(copiesLine)
    expect(lines.every((line) => [...line].length <= 100)).toBe(true)
    expect(lines.at(-2) ?? '').toMatch(/1 with copies that differ \(≠\)/)

    // After the unlock A applies B's version: one version again, nothing marked.
    await ok(alice.call('unlock', { name: 'plan.txt' }))
    await waitFile([a], 'plan.txt', NEWER)
    const agreed = await waitFor(async () => (await rowAt(a))?.differs === false && rowAt(a), {
      what: 'A’s ls to stop marking plan.txt',
    })
    expect(agreed).not.toHaveProperty('copies')
    const after = await runCli(['--server', a.address, 'ls'])
    expect(after.stdout.toString('utf8')).not.toContain('≠')
  }, 60_000)
})
