// Changes made straight in a server's folder by another program (cp, an editor, rm, mv) are in
// that server's own change log as `local-change` entries, and on its console; the server's own
// writes — client operations over either front end, and what the applier mirrors from a peer —
// never are. Real servers, the real CLI (`log --follow` as a person runs it), real files.
import { copyFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import type { LogEntry } from '../../src/protocol/index.js'
import { runCli, spawnCli } from '../client/run-cli.js'
import { httpRequest, startCluster, startServer, tempDir, waitFor } from '../helpers/index.js'

function entriesOf(stdout: string): LogEntry[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as LogEntry)
}

const localChanges = (entries: readonly LogEntry[]) =>
  entries.filter((e) => e.op === 'local-change')

describe('local changes: another program’s, not the server’s own', () => {
  it('a cp into the root is exactly one local-change in log --follow; client uploads are none', async () => {
    const server = await startServer({ http: true })
    const follow = spawnCli(['--server', server.address, '--json', 'log', '--follow'])
    const human = spawnCli(['--server', server.address, 'log', '--follow'])
    const cli = (...args: string[]) =>
      runCli(['--server', server.address, ...args], { env: { TANDEM_CLIENT_ID: 'alice' } })
    const local = tempDir('tandem-local-')
    writeFileSync(path.join(local, 'sent.txt'), 'uploaded by a client\n')

    // The server's own writes, by every kind of operation and both front ends.
    expect((await cli('put', path.join(local, 'sent.txt'))).code).toBe(0)
    expect((await cli('create', 'made.txt', '--text', 'made')).code).toBe(0)
    expect((await cli('append', 'made.txt', '--text', ' more')).code).toBe(0)
    expect((await cli('mv', 'made.txt', 'moved.txt')).code).toBe(0)
    expect((await cli('rm', 'moved.txt')).code).toBe(0)
    const put = await httpRequest(server.httpUrl!, '/api/v1/files/web.txt', {
      method: 'PUT',
      body: 'from the page',
      clientId: 'bob',
    })
    expect(put.status).toBeLessThan(300)
    // Each of them indexed (the scanner has seen them all) before anything else happens.
    await waitFor(
      async () => {
        const names = await listNames(server.address)
        return names.join() === 'sent.txt,web.txt' && (await indexedFiles(server.address)) === 2
      },
      { what: 'the client writes listed and indexed' },
    )

    // Another program: one cp.
    copyFileSync(path.join(local, 'sent.txt'), path.join(server.root, 'copied.txt'))
    const seen = await waitFor(
      () => localChanges(entriesOf(follow.stdout())).find((e) => e.name === 'copied.txt'),
      { what: 'the cp in log --follow' },
    )
    expect(seen).toMatchObject({ what: 'created', bytes: 21, client: null })

    // A last change by another program: reports leave in the order the scanner recorded the
    // changes, so anything about the client writes would be in by the time this one is.
    writeFileSync(path.join(server.root, 'marker.txt'), 'x')
    await waitFor(
      () => localChanges(entriesOf(follow.stdout())).some((e) => e.name === 'marker.txt'),
      {
        what: 'the marker in log --follow',
      },
    )
    expect(localChanges(entriesOf(follow.stdout())).map((e) => e.name)).toEqual([
      'copied.txt',
      'marker.txt',
    ])
    // The person reading `log --follow` sees it in words, and so does the console.
    await waitFor(() => /local-change {2}copied\.txt {2}created, 21 B/.test(human.stdout()), {
      what: 'the human line',
    })
    await waitFor(() => server.output().includes('◆ on disk here: created copied.txt (21 B)'), {
      what: 'the server console line',
    })
  })

  it('edits, removals and renames on disk are each one entry; what a peer sends is none', async () => {
    const [a, b] = await startCluster(2)
    const followA = a.followLog()
    const followB = b.followLog()
    await a.write('doc.txt', 'first')
    await waitFor(() => localChanges(followA.entries() as unknown as LogEntry[]).length === 1, {
      what: 'the first local change at A',
    })
    // B receives it: mirrored, its own work — a sync-pull there, no local change.
    await waitFor(
      () => followB.entries().some((e) => e.op === 'sync-pull' && e.name === 'doc.txt'),
      {
        what: 'doc.txt at B',
      },
    )
    writeFileSync(a.file('doc.txt'), 'second, longer')
    await waitFor(() => localChanges(followA.entries() as unknown as LogEntry[]).length === 2, {
      what: 'the edit at A',
    })
    renameSync(a.file('doc.txt'), a.file('renamed.txt'))
    await waitFor(() => localChanges(followA.entries() as unknown as LogEntry[]).length === 3, {
      what: 'the rename at A',
    })
    rmSync(a.file('renamed.txt'))
    await waitFor(() => localChanges(followA.entries() as unknown as LogEntry[]).length === 4, {
      what: 'the removal at A',
    })
    await waitFor(
      () => followB.entries().some((e) => e.op === 'sync-delete' && e.name === 'renamed.txt'),
      {
        what: 'the removal at B',
      },
    )
    // One change by another program at B too, so that a late report there would be in by now.
    await b.write('from-b.txt', 'b')
    await waitFor(() => localChanges(followB.entries() as unknown as LogEntry[]).length > 0, {
      what: 'B’s own local change',
    })
    await waitFor(
      () => followA.entries().some((e) => e.op === 'sync-pull' && e.name === 'from-b.txt'),
      {
        what: 'from-b.txt at A',
      },
    )
    const atA = localChanges(followA.entries() as unknown as LogEntry[])
    expect(atA.map((e) => [e.what, e.name, e.to, e.bytes ?? null])).toEqual([
      ['created', 'doc.txt', null, 5],
      ['modified', 'doc.txt', null, 14],
      ['renamed', 'doc.txt', 'renamed.txt', 14],
      ['deleted', 'renamed.txt', null, null],
    ])
    expect(localChanges(followB.entries() as unknown as LogEntry[]).map((e) => e.name)).toEqual([
      'from-b.txt',
    ])
    expect(
      localChanges(followA.entries() as unknown as LogEntry[]).some((e) => e.name === 'from-b.txt'),
    ).toBe(false)
  })
})

async function listNames(address: string): Promise<string[]> {
  const run = await runCli(['--server', address, '--json', 'ls'])
  return (JSON.parse(run.stdout.toString()) as { name: string }[]).map((r) => r.name)
}

async function indexedFiles(address: string): Promise<number> {
  const run = await runCli(['--server', address, '--json', 'status'])
  return (JSON.parse(run.stdout.toString()) as { sync: { files?: number } }).sync.files ?? 0
}
