// Renames and deletes with --replicas 2 of 3, through a member that does not hold the file: a
// file is placed by its file id, not its name, so a rename (of a file, or of a whole folder) moves
// no copy — the new name is on the disks that held the old one — and a folder deleted there is
// gone from every disk and every listing. No third copy appears on the way. A file replaced or
// appended to there keeps its holders: the new content ends on the same 2 disks.
import { describe, expect, it } from 'vitest'
import { runCli } from '../client/run-cli.js'
import type { ClusterServer } from '../helpers/index.js'
import { sha256Of, waitFor } from '../helpers/index.js'
import {
  lsJson,
  makeFiles,
  putFiles,
  startPlacementCluster,
  waitCopies,
  waitSettled,
  watchCopies,
  type Copies,
} from '../helpers/placement.js'

/** Each file's holders, under its new name: the copies a rename must leave where they are. */
function renamedHolders(
  copies: Copies,
  rename: (name: string) => string,
): (c: Copies) => true | string {
  return (now) => {
    for (const [name, list] of copies.holders) {
      const there = now.holders.get(rename(name))
      if (there?.join(',') !== list.join(','))
        return `${rename(name)} on ${list.join(',')} (now ${there?.join(',') ?? 'absent'})`
    }
    return true
  }
}

describe('placement: renames and deletes through a member that does not hold the file', () => {
  it('mv of a file and of a folder at a non-holder moves no copy; rm -r there removes every copy', async () => {
    const servers = await startPlacementCluster({ members: 3 })
    const [a, , c] = servers as [ClusterServer, ClusterServer, ClusterServer]
    const files = makeFiles(12, 4096)
    const expected = await putFiles(a, files)
    const placed = await waitCopies(servers, expected, { min: 2, max: 2 })
    const notAtC = [...placed.holders].find(([, list]) => !list.includes('C'))?.[0]
    expect(notAtC, 'a file C does not hold').toBeDefined()

    // One file, renamed through C, which does not hold it.
    const oneName = (name: string) => (name === notAtC ? 'moved/one.bin' : name)
    const one = new Map([...expected].map(([name, sha]) => [oneName(name), sha]))
    const watchOne = watchCopies(servers, one, { min: 0, max: 2 })
    const mv = await runCli(['--server', c.address, 'mv', notAtC!, 'moved/one.bin'])
    expect([mv.code, mv.stderr]).toEqual([0, ''])
    const afterOne = await waitSettled(servers, servers, one, {
      min: 2,
      max: 2,
      timeoutMs: 15_000,
      what: `${notAtC} renamed on the disks that held it`,
      also: renamedHolders(placed, oneName),
    })
    expect((await watchOne.stop()).violations).toEqual([])

    // The whole folder, renamed through C (which holds some of its files, not all).
    const folderName = (name: string) => name.replace(/^batch\//, 'renamed/')
    const all = new Map([...one].map(([name, sha]) => [folderName(name), sha]))
    const watchAll = watchCopies(servers, all, { min: 0, max: 2 })
    const mvAll = await runCli(['--server', c.address, 'mv', 'batch', 'renamed'])
    expect([mvAll.code, mvAll.stderr]).toEqual([0, ''])
    await waitSettled(servers, servers, all, {
      min: 2,
      max: 2,
      timeoutMs: 15_000,
      what: 'the folder renamed on the disks that held each file',
      also: renamedHolders(afterOne, folderName),
    })
    expect((await watchAll.stop()).violations).toEqual([])

    // Deleted through C: gone from every disk and every listing.
    const rm = await runCli(['--server', c.address, 'rm', '-r', 'renamed'])
    expect([rm.code, rm.stderr]).toEqual([0, ''])
    const left = new Map([['moved/one.bin', expected.get(notAtC!)!]])
    await waitCopies(servers, left, {
      min: 2,
      max: 2,
      timeoutMs: 15_000,
      what: 'nothing left on any disk but moved/one.bin',
    })
    for (const server of servers)
      await waitFor(
        async () => (await lsJson(server)).every((row) => !row.name.startsWith('renamed/')),
        { timeoutMs: 15_000, intervalMs: 250, what: `${server.name}'s ls without renamed/` },
      )
  }, 60_000)

  it('write and append through a member that does not hold the file: the new content ends on its 2 holders', async () => {
    const servers = await startPlacementCluster({ members: 3 })
    const [a, , c] = servers as [ClusterServer, ClusterServer, ClusterServer]
    const files = makeFiles(8, 4096)
    const expected = await putFiles(a, files)
    const placed = await waitCopies(servers, expected, { min: 2, max: 2 })
    const [target, holders] = [...placed.holders].find(([, list]) => !list.includes('C'))!

    // Replaced through C: a new version of the same file (same id), so the same holders.
    const write = await runCli(['--server', c.address, 'write', target, '--text', 'written at C\n'])
    expect([write.code, write.stderr]).toEqual([0, ''])
    const written = new Map(expected).set(target, sha256Of('written at C\n'))
    await waitCopies(servers, written, {
      min: 2,
      max: 2,
      timeoutMs: 20_000,
      what: `the new ${target} on ${holders.join(',')} only`,
      also: (now) =>
        now.holders.get(target)!.join(',') === holders.join(',') ||
        `${target} on ${now.holders.get(target)!.join(',')}`,
    })

    // Appended through C: the client follows ERR_MOVED to a holder.
    const append = await runCli(['--server', c.address, 'append', target, '--text', 'and more\n'])
    expect([append.code, append.stderr]).toEqual([0, ''])
    const appended = new Map(written).set(target, sha256Of('written at C\nand more\n'))
    await waitCopies(servers, appended, {
      min: 2,
      max: 2,
      timeoutMs: 20_000,
      what: `the appended ${target} on ${holders.join(',')}`,
      also: (now) =>
        now.holders.get(target)!.join(',') === holders.join(',') ||
        `${target} on ${now.holders.get(target)!.join(',')}`,
    })
    const cat = await runCli(['--server', c.address, 'cat', target])
    expect(cat.stdout.toString()).toBe('written at C\nand more\n')
  }, 60_000)
})
