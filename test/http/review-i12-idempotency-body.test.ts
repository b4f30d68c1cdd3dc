// An Idempotency-Key names one request, body included: two HTTP clients on one machine that send
// no client id share a client part (`http@<address>`), so their keys meet. A key reused for
// another body at the same name is refused (ERR_BAD_REQUEST, HTTP 400), not answered with the
// first body's result while the second body is silently dropped. A true replay (the same body)
// is still answered as it was, and the binary protocol's rids are held to the same rule.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  expectJson,
  httpRequest,
  startServer,
  TestClient,
  type ServerHandle,
} from '../helpers/index.js'

describe('review: an idempotency key names its body too', () => {
  let server: ServerHandle
  beforeAll(async () => {
    server = await startServer({ http: true })
  })
  afterAll(async () => {
    await server.stop()
  })
  const disk = (name: string) => readFileSync(path.join(server.root, name), 'utf8')

  it('two clients without a client id, one key, two bodies: the second is refused', async () => {
    const base = server.httpUrl!
    const put = (body: string) =>
      httpRequest(base, '/api/v1/files/report.txt', {
        method: 'PUT',
        body,
        headers: { 'Idempotency-Key': '1' },
      })
    const first = expectJson(await put('from the first script\n'), 201)
    // A replay of the first (same body) is answered as it was.
    expect(expectJson(await put('from the first script\n'), 201)).toEqual(first)
    const second = await put('from the second script\n')
    expect(second.status, second.body.toString()).toBe(400)
    expect(disk('report.txt')).toBe('from the first script\n')
  })

  it('a binary rid reused for an append of another body is refused', async () => {
    const client = await TestClient.connect(server.port, { clientId: 'bin' })
    try {
      expect((await client.upload('log.txt', Buffer.from(''))).ok).toBe(true)
      const first = await client.call(
        'append',
        { name: 'log.txt', rid: 'bin:1' },
        Buffer.from('a\n'),
      )
      expect(first.ok).toBe(true)
      expect(
        await client.call('append', { name: 'log.txt', rid: 'bin:1' }, Buffer.from('a\n')),
      ).toEqual(first)
      const other = await client.call(
        'append',
        { name: 'log.txt', rid: 'bin:1' },
        Buffer.from('b\n'),
      )
      expect(other.error?.code, JSON.stringify(other)).toBe('ERR_BAD_REQUEST')
      expect((await client.call('ping')).ok).toBe(true)
      expect(disk('log.txt')).toBe('a\n')
    } finally {
      await client.close()
    }
  })
})
