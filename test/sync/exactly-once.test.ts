// Exactly once across members: a request's rid and its answer travel with the change, so a replay
// at another member is answered, not applied again — also when the first server died between
// its commit and its reply (the test hook TANDEM_TEST_HOOK kills it at that instant).
import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  sha256Of,
  startCluster,
  TestClient,
  waitFile,
  waitFor,
  type ClusterServer,
} from '../helpers/index.js'

const LINE = 'the appended line\n'

/** Every name in a server's data directory (a conflict copy would show here). */
function namesOn(server: ClusterServer): string[] {
  return readdirSync(server.root).sort()
}

function content(server: ClusterServer, name: string): string {
  return readFileSync(server.file(name), 'utf8')
}

async function call(
  server: ClusterServer,
  op: string,
  fields: Record<string, unknown>,
  body?: Buffer,
) {
  const client = await TestClient.connect(server.port, { clientId: 'replayer' })
  try {
    return await client.call(op, fields, body)
  } finally {
    await client.close()
  }
}

/** Start a pair whose first server runs with the test hook, and put `log.txt` on both. */
async function pairWithHook(hook: string): Promise<[ClusterServer, ClusterServer]> {
  const [a, b] = await startCluster(2, {
    beforeStart: (servers) => {
      servers[0]!.env = { TANDEM_TEST_HOOK: hook }
    },
  })
  await a.write('log.txt', 'start\n')
  await waitFile([a, b], 'log.txt', 'start\n')
  return [a, b]
}

describe('exactly once across members', () => {
  it('an append whose server is killed after the peer has it is replayed at the peer and lands once', async () => {
    const [a, b] = await pairWithHook('kill-after-peers:append')
    const lost = await call(a, 'append', { name: 'log.txt', rid: 'replayer:41' }, Buffer.from(LINE))
    expect(lost.ok, 'the answer is lost: A was killed before replying').toBe(false)
    await waitFor(() => !a.running, { what: 'A killed by the hook' })
    await waitFile([b], 'log.txt', `start\n${LINE}`)

    const replay = await call(
      b,
      'append',
      { name: 'log.txt', rid: 'replayer:41' },
      Buffer.from(LINE),
    )
    expect(replay.ok, JSON.stringify(replay.error)).toBe(true)
    expect(replay.result).toMatchObject({
      name: 'log.txt',
      size: `start\n${LINE}`.length,
      sha256: sha256Of(LINE),
    })
    expect(content(b, 'log.txt')).toBe(`start\n${LINE}`)

    a.env = {}
    await a.start()
    // A's own record (tandem.db) answers the same as B: the original answer, at any member.
    const atA = await call(a, 'append', { name: 'log.txt', rid: 'replayer:41' }, Buffer.from(LINE))
    expect(atA).toEqual(replay)
    await waitFile([a, b], 'log.txt', `start\n${LINE}`)
    // Caught up, and still once: no conflict copy anywhere.
    await a.write('marker.txt', 'm')
    await waitFile([a, b], 'marker.txt', 'm')
    expect(content(a, 'log.txt')).toBe(`start\n${LINE}`)
    expect(content(b, 'log.txt')).toBe(`start\n${LINE}`)
    expect(namesOn(a)).toEqual(['log.txt', 'marker.txt'])
    expect(namesOn(b)).toEqual(['log.txt', 'marker.txt'])
  }, 60_000)

  it('killed before the peer got the change: the replay applies at the peer, and the two equal versions make no conflict copy', async () => {
    const [a, b] = await pairWithHook('kill-after-commit:append')
    const lost = await call(a, 'append', { name: 'log.txt', rid: 'replayer:42' }, Buffer.from(LINE))
    expect(lost.ok).toBe(false)
    await waitFor(() => !a.running, { what: 'A killed by the hook' })
    // A's disk has the line (the commit was done); B may or may not have heard of it.
    expect(content(a, 'log.txt')).toBe(`start\n${LINE}`)

    const replay = await call(
      b,
      'append',
      { name: 'log.txt', rid: 'replayer:42' },
      Buffer.from(LINE),
    )
    expect(replay.ok, JSON.stringify(replay.error)).toBe(true)
    expect(content(b, 'log.txt')).toBe(`start\n${LINE}`)

    a.env = {}
    await a.start()
    await a.write('marker.txt', 'm')
    await waitFile([a, b], 'marker.txt', 'm')
    await b.write('marker2.txt', 'n')
    await waitFile([a, b], 'marker2.txt', 'n')
    expect(content(a, 'log.txt')).toBe(`start\n${LINE}`)
    expect(content(b, 'log.txt')).toBe(`start\n${LINE}`)
    expect(namesOn(a)).toEqual(['log.txt', 'marker.txt', 'marker2.txt'])
    expect(namesOn(b)).toEqual(['log.txt', 'marker.txt', 'marker2.txt'])
  }, 60_000)

  it('killed before the peer got the change, replayed at the peer after the server came back: answered, not applied again', async () => {
    const [a, b] = await pairWithHook('kill-after-commit:append')
    const lost = await call(a, 'append', { name: 'log.txt', rid: 'replayer:43' }, Buffer.from(LINE))
    expect(lost.ok).toBe(false)
    await waitFor(() => !a.running, { what: 'A killed by the hook' })
    a.env = {}
    await a.start()
    // A's startup inventory finds the append its crash kept from the index, with its rid (or,
    // when A's scanner had indexed it before the rid's notice came, stores that entry again with
    // the rid): B learns the rid with the change, before the file is there.
    await waitFile([a, b], 'log.txt', `start\n${LINE}`)
    const replay = await call(
      b,
      'append',
      { name: 'log.txt', rid: 'replayer:43' },
      Buffer.from(LINE),
    )
    expect(replay.ok, JSON.stringify(replay.error)).toBe(true)
    expect(replay).toEqual(
      await call(a, 'append', { name: 'log.txt', rid: 'replayer:43' }, Buffer.from(LINE)),
    )
    await a.write('marker.txt', 'm')
    await waitFile([a, b], 'marker.txt', 'm')
    expect(content(a, 'log.txt')).toBe(`start\n${LINE}`)
    expect(content(b, 'log.txt')).toBe(`start\n${LINE}`)
    expect(namesOn(b)).toEqual(['log.txt', 'marker.txt'])
  }, 60_000)

  it('a delete and a rename applied at A, replayed at B, answer as they did at A', async () => {
    const [a, b] = await startCluster(2)
    await a.write('doomed.txt', 'd')
    await a.write('old.txt', 'o')
    await waitFile([a, b], 'doomed.txt', 'd')
    await waitFile([a, b], 'old.txt', 'o')

    const del = await call(a, 'delete', { name: 'doomed.txt', rid: 'replayer:1' })
    expect(del).toMatchObject({ ok: true, result: { name: 'doomed.txt' } })
    const mv = await call(a, 'rename', { from: 'old.txt', to: 'new.txt', rid: 'replayer:2' })
    expect(mv).toMatchObject({ ok: true, result: { from: 'old.txt', to: 'new.txt' } })
    await waitFile([b], 'doomed.txt', null)
    await waitFile([b], 'new.txt', 'o')

    expect(await call(b, 'delete', { name: 'doomed.txt', rid: 'replayer:1' })).toEqual(del)
    expect(await call(b, 'rename', { from: 'old.txt', to: 'new.txt', rid: 'replayer:2' })).toEqual(
      mv,
    )
    // And an append's answer travels too: replayed at B, nothing lands there.
    const app = await call(a, 'append', { name: 'new.txt', rid: 'replayer:3' }, Buffer.from('+'))
    expect(app.ok).toBe(true)
    await waitFile([b], 'new.txt', 'o+')
    expect(
      await call(b, 'append', { name: 'new.txt', rid: 'replayer:3' }, Buffer.from('+')),
    ).toEqual(app)
    await waitFile([a, b], 'new.txt', 'o+')
    expect(namesOn(b)).toEqual(['new.txt'])
  }, 45_000)
})
