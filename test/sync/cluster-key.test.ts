// The cluster key between real servers linked with --peer on loopback: the same key mirrors; another
// key, or none against a key, is refused with ERR_AUTH on both sides (console and change log of
// each), and the refused server receives nothing: its disk, its index (`status`) and its listing
// stay empty of the other's files.
import { writeFileSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it, onTestFailed } from 'vitest'
import type { LogEntry } from '../../src/protocol/index.js'
import type { ClusterServer } from '../helpers/index.js'
import {
  newServer,
  TestClient,
  freePorts,
  startCluster,
  tempDir,
  waitFile,
  waitFor,
} from '../helpers/index.js'

/** A key file holding `key` (a trailing newline, as `base64 > file` leaves). */
function keyFile(key: string): string {
  const file = path.join(tempDir('tandem-key-'), 'cluster.key')
  writeFileSync(file, `${key}\n`)
  return file
}

const KEY = 'c2FtZSBrZXkgZm9yIGJvdGggc2VydmVycyBvZiB0aGUgY2x1c3Rlcg=='
const OTHER_KEY = 'YW5vdGhlciBrZXksIHRoZSB3cm9uZyBvbmUgZm9yIHRoaXMgY2x1c3Rlcg=='

/** Two servers A and B, each the other's --peer, A with `argsA` and B with `argsB`. */
async function pair(argsA: string[], argsB: string[]): Promise<[ClusterServer, ClusterServer]> {
  const ports = await freePorts(4)
  const make = (name: string, i: number, args: string[]): ClusterServer =>
    newServer({
      name,
      port: ports[i]!,
      syncPort: ports[2 + i]!,
      peers: [`127.0.0.1:${ports[1 - i]!}`],
      extraArgs: args,
    })
  const servers: [ClusterServer, ClusterServer] = [make('A', 0, argsA), make('B', 1, argsB)]
  onTestFailed(() => {
    for (const s of servers) console.error(`--- ${s.name} ---\n${s.output().slice(-4000)}`)
  })
  return servers
}

async function changeLog(server: ClusterServer): Promise<LogEntry[]> {
  const client = await TestClient.connect(server.port, { clientId: 'key-test' })
  try {
    const reply = await client.log({ limit: 1000 })
    if (!reply.ok) throw new Error(`log: ${reply.error?.code}`)
    return reply.result!.entries
  } finally {
    await client.close()
  }
}

/** Both servers have logged (console and change log) that they refused the other. */
async function refusedOnBothSides(a: ClusterServer, b: ClusterServer): Promise<void> {
  for (const [self, other] of [
    [a, b],
    [b, a],
  ] as const) {
    await waitFor(
      async () =>
        (await changeLog(self)).some(
          (e) => e.op === 'member-refused' && (e.detail ?? '').includes(other.name),
        ),
      {
        timeoutMs: 15_000,
        intervalMs: 100,
        what: `${self.name}'s change log to refuse ${other.name}`,
      },
    )
    await waitFor(() => /member\s+\S+\s+refused/.test(self.output()), {
      timeoutMs: 5_000,
      what: `${self.name}'s console to say a member was refused`,
    })
  }
}

/** B got nothing of A's: no file on its disk, none in its index or listing, A never up there. */
async function receivedNothing(b: ClusterServer): Promise<void> {
  expect(await readdir(b.root)).toEqual([])
  const status = await b.status()
  expect(status.sync?.files).toBe(0)
  expect(status.peers.every((p) => !p.up)).toBe(true)
  expect(await b.list()).toEqual([])
}

describe('the cluster key between --peer servers', () => {
  it('two servers with the same key link and mirror a file, both ways', async () => {
    const [a, b] = await startCluster(2, { extraArgs: ['--cluster-key', keyFile(KEY)] })
    await a.write('notes/hello.txt', 'hello over an authenticated link\n')
    await waitFile([b], 'notes/hello.txt', 'hello over an authenticated link\n')
    await b.write('back.txt', 'and back\n')
    await waitFile([a], 'back.txt', 'and back\n')
    expect(a.output()).not.toContain('ERR_AUTH')
    expect(b.output()).not.toContain('ERR_AUTH')
    expect(a.output()).not.toContain(KEY) // the key is never printed
  }, 45_000)

  it('a server with another key is refused on both sides (ERR_AUTH) and receives nothing', async () => {
    const [a, b] = await pair(
      ['--cluster-key', keyFile(KEY)],
      ['--cluster-key', keyFile(OTHER_KEY)],
    )
    await a.write('secret.txt', 'for the cluster only\n')
    await a.start()
    await b.start()
    await refusedOnBothSides(a, b)
    await receivedNothing(b)
    // A's side of it: B never up, and A still serves its clients.
    expect((await a.status()).peers.every((p) => !p.up)).toBe(true)
    expect((await a.list()).map((row) => row.name)).toEqual(['secret.txt'])
  }, 45_000)

  it('a server without a key is refused by a keyed one, and refuses it back (both ERR_AUTH)', async () => {
    const [a, b] = await pair(['--cluster-key', keyFile(KEY)], [])
    await a.write('secret.txt', 'for the cluster only\n')
    await a.start()
    await b.start()
    await refusedOnBothSides(a, b)
    await receivedNothing(b)
    expect(b.output()).toMatch(/has no cluster key|holds a cluster key/)
  }, 45_000)
})
