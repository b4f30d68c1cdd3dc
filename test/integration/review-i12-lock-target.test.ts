// A lock's request id names what it locks: a rid of a lock of the file named '#0' reused for a
// lock by listing index 0 (another file) is refused (ERR_BAD_REQUEST), not answered as the first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, TestClient, type ServerHandle } from '../helpers/index.js'

describe('review: the lock a rid names', () => {
  let server: ServerHandle
  let client: TestClient
  beforeAll(async () => {
    server = await startServer({})
    client = await TestClient.connect(server.port, { clientId: 'lk' })
  })
  afterAll(async () => {
    await client.close()
    await server.stop()
  })

  it("a rid of a lock of '#0' reused for a lock by index 0 is refused", async () => {
    expect((await client.upload('#0', Buffer.from('1'))).ok).toBe(true)
    expect((await client.upload('!first.txt', Buffer.from('2'))).ok).toBe(true)
    const first = await client.call('lock', { name: '#0', rid: 'lk:1' })
    expect(first.ok, JSON.stringify(first)).toBe(true)
    const listed = await client.list()
    expect(listed.ok).toBe(true)
    expect(JSON.stringify(listed.result).indexOf('!first.txt')).toBeLessThan(
      JSON.stringify(listed.result).indexOf('#0'),
    ) // index 0 is '!first.txt', not '#0'
    const other = await client.call('lock', { index: 0, rid: 'lk:1' })
    expect(other.error?.code, JSON.stringify(other)).toBe('ERR_BAD_REQUEST')
  })
})
