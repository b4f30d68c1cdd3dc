// Downloads: ranges (206, 416 with `bytes */SIZE`, several ranges → 200, If-Range), 304 for
// If-None-Match, and an ETag that is the content's SHA-256 (so it changes exactly when the content
// does).
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  etagOf,
  expectError,
  get,
  httpRequest,
  startServer,
  type ServerHandle,
} from '../helpers/index.js'

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz'

describe('HTTP: ranges, ETags and 304', () => {
  let server: ServerHandle
  let base: string
  beforeAll(async () => {
    server = await startServer({ http: true })
    base = server.httpUrl!
    const up = await httpRequest(base, '/upload?name=abc.txt', { method: 'POST', body: ALPHABET })
    expect(up.status).toBe(200)
  })
  const range = (value: string, more: Record<string, string> = {}) =>
    get(base, '/download/abc.txt', { headers: { range: value, ...more } })

  it('bytes=2-5: 206 with Content-Range and exactly those bytes', async () => {
    const reply = await range('bytes=2-5')
    expect(reply.status).toBe(206)
    expect(reply.text).toBe('cdef')
    expect(reply.headers.get('content-range')).toBe('bytes 2-5/26')
    expect(reply.headers.get('content-length')).toBe('4')
    expect(reply.headers.get('etag')).toBe(etagOf(ALPHABET))
  })

  it('bytes=10-: from 10 to the end', async () => {
    const reply = await range('bytes=10-')
    expect(reply.status).toBe(206)
    expect(reply.text).toBe(ALPHABET.slice(10))
    expect(reply.headers.get('content-range')).toBe('bytes 10-25/26')
  })

  it('bytes=-4: the last four', async () => {
    const reply = await range('bytes=-4')
    expect(reply.status).toBe(206)
    expect(reply.text).toBe('wxyz')
    expect(reply.headers.get('content-range')).toBe('bytes 22-25/26')
  })

  it('the same through /api/v1/files', async () => {
    const reply = await get(base, '/api/v1/files/abc.txt', { headers: { range: 'bytes=0-0' } })
    expect(reply.status).toBe(206)
    expect(reply.text).toBe('a')
    expect(reply.headers.get('content-range')).toBe('bytes 0-0/26')
  })

  it('a range past the end: 416 ERR_RANGE with Content-Range: bytes */26', async () => {
    for (const value of ['bytes=26-', 'bytes=100-200']) {
      const reply = await range(value)
      expectError(reply, 416, 'ERR_RANGE')
      expect(reply.headers.get('content-range'), value).toBe('bytes */26')
    }
  })

  it('several ranges: the whole file, 200', async () => {
    const reply = await range('bytes=0-1,4-5')
    expect(reply.status).toBe(200)
    expect(reply.text).toBe(ALPHABET)
  })

  it('If-Range with the current ETag is honoured; a stale one gets the whole file', async () => {
    const current = await range('bytes=2-5', { 'if-range': etagOf(ALPHABET) })
    expect(current.status).toBe(206)
    expect(current.text).toBe('cdef')
    const stale = await range('bytes=2-5', { 'if-range': etagOf('something else') })
    expect(stale.status).toBe(200)
    expect(stale.text).toBe(ALPHABET)
  })

  it('If-None-Match with the current ETag, or *: 304 without a body; a stale one: 200', async () => {
    for (const value of [etagOf(ALPHABET), '*', `"nope", ${etagOf(ALPHABET)}`]) {
      const reply = await get(base, '/download/abc.txt', { headers: { 'if-none-match': value } })
      expect(reply.status, value).toBe(304)
      expect(reply.body.length).toBe(0)
      expect(reply.headers.get('etag')).toBe(etagOf(ALPHABET))
    }
    const stale = await get(base, '/download/abc.txt', {
      headers: { 'if-none-match': etagOf('old') },
    })
    expect(stale.status).toBe(200)
    expect(stale.text).toBe(ALPHABET)
  })

  it('the ETag changes exactly when the content does', async () => {
    const etag = async (name: string) => (await get(base, `/download/${name}`)).headers.get('etag')
    await httpRequest(base, '/upload?name=e.txt', { method: 'POST', body: 'version 1' })
    const first = await etag('e.txt')
    expect(first).toBe(etagOf('version 1'))

    // The same bytes written again: the same ETag (though mtime moved).
    await httpRequest(base, '/write/e.txt', { method: 'POST', body: 'version 1' })
    expect(await etag('e.txt')).toBe(first)
    // Touched on disk by another program: the same ETag.
    writeFileSync(path.join(server.root, 'e.txt'), 'version 1')
    expect(await etag('e.txt')).toBe(first)
    // Renamed there and back: the same ETag.
    await httpRequest(base, '/rename/e.txt/e2.txt', { method: 'PUT' })
    expect(await etag('e2.txt')).toBe(first)
    await httpRequest(base, '/rename/e2.txt/e.txt', { method: 'PUT' })
    expect(await etag('e.txt')).toBe(first)

    // New content: a new ETag, that of the new content; the old one no longer gets a 304.
    await httpRequest(base, '/append/e.txt', { method: 'POST', body: '!' })
    expect(await etag('e.txt')).toBe(etagOf('version 1!'))
    const revalidate = await get(base, '/download/e.txt', { headers: { 'if-none-match': first! } })
    expect(revalidate.status).toBe(200)
    expect(revalidate.text).toBe('version 1!')
    // Written straight into the directory: the answer's ETag is that of the bytes it sends.
    writeFileSync(path.join(server.root, 'e.txt'), 'from outside')
    const after = await get(base, '/download/e.txt')
    expect(after.text).toBe('from outside')
    expect(after.headers.get('etag')).toBe(etagOf(after.body))
  })
})
