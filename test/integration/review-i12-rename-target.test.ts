// A rename's request id names both of its names: a rid reused for a rename of other names is
// refused (ERR_BAD_REQUEST), also when the two pairs of names joined with '>' read alike ('a>b' to
// 'c' and 'a' to 'b>c'), instead of being answered with the first rename's result unapplied.
import { existsSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, TestClient, type ServerHandle } from '../helpers/index.js'

describe('review: the rename a rid names', () => {
  let server: ServerHandle
  let client: TestClient
  beforeAll(async () => {
    server = await startServer({})
    client = await TestClient.connect(server.port, { clientId: 'mv-client' })
  })
  afterAll(async () => {
    await client.close()
  })

  it("a rid of 'a>b' → 'c' reused for 'a' → 'b>c' is refused, not answered as the first", async () => {
    expect((await client.upload('a>b', Buffer.from('1'))).ok).toBe(true)
    const first = await client.call('rename', { from: 'a>b', to: 'c', rid: 'mv-client:1' })
    expect(first).toMatchObject({ ok: true, result: { from: 'a>b', to: 'c' } })
    expect((await client.upload('a', Buffer.from('2'))).ok).toBe(true)
    const other = await client.call('rename', { from: 'a', to: 'b>c', rid: 'mv-client:1' })
    expect(other.error?.code, JSON.stringify(other)).toBe('ERR_BAD_REQUEST')
    expect(existsSync(path.join(server.root, 'a'))).toBe(true)
    // The same rename again is still its replay.
    expect(await client.call('rename', { from: 'a>b', to: 'c', rid: 'mv-client:1' })).toEqual(first)
  })
})
