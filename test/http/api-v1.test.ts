// The canonical API, /api/v1/: every endpoint of docs/HTTP.md with a real request against a real
// server (locks in detail: locks.test.ts; events: events.test.ts).
import { existsSync, readFileSync } from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  etagOf,
  expectError,
  expectJson,
  get,
  httpRequest,
  sha256,
  startServer,
  type ServerHandle,
} from '../helpers/index.js'

const ID = 'v1-client'

describe('HTTP: /api/v1/', () => {
  let server: ServerHandle
  let base: string
  beforeAll(async () => {
    server = await startServer({ http: true })
    base = server.httpUrl!
  })
  const onDisk = (name: string) => readFileSync(path.join(server.root, name))
  const put = (name: string, body: string | Buffer, headers: Record<string, string> = {}) =>
    httpRequest(base, `/api/v1/files/${encodeURIComponent(name)}`, {
      method: 'PUT',
      body,
      headers,
      clientId: ID,
    })

  it('PUT /api/v1/files/<name>: 201 when created, 200 when replaced', async () => {
    const created = await put('v1.txt', 'first')
    expect(expectJson(created, 201)).toMatchObject({
      name: 'v1.txt',
      size: 5,
      sha256: sha256('first'),
    })
    expect(typeof created.json().mtime).toBe('number')
    const replaced = await put('v1.txt', 'second!')
    expect(expectJson(replaced, 200)).toMatchObject({ name: 'v1.txt', size: 7 })
    expect(onDisk('v1.txt').toString()).toBe('second!')
  })

  it('PUT with Expect: 100-continue (as `curl -T` sends a big file): continue, then stored', async () => {
    const content = Buffer.alloc(2 * 1024 * 1024, 'continue ')
    const url = new URL(base)
    const reply = await new Promise<{ status: number; body: string; continued: boolean }>(
      (resolve, reject) => {
        let continued = false
        const req = http.request({
          host: url.hostname,
          port: Number(url.port),
          method: 'PUT',
          path: '/api/v1/files/continued.bin',
          agent: false,
          headers: {
            expect: '100-continue',
            'content-type': 'application/octet-stream',
            'content-length': content.length,
          },
        })
        req.once('continue', () => {
          continued = true
          req.end(content)
        })
        req.once('response', (res) => {
          let body = ''
          res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk))
          res.once('end', () => resolve({ status: res.statusCode ?? 0, body, continued }))
        })
        req.once('error', reject)
        req.setTimeout(15_000, () => req.destroy(new Error('no answer to Expect: 100-continue')))
        req.flushHeaders()
      },
    )
    expect(reply.continued).toBe(true)
    expect(reply.status, reply.body).toBe(201)
    expect(JSON.parse(reply.body)).toMatchObject({ size: content.length, sha256: sha256(content) })
    expect(onDisk('continued.bin').equals(content)).toBe(true)
  })

  it('HEAD /download/<name> as GET without the body', async () => {
    await put('head-dl.txt', 'twelve bytes')
    const head = await httpRequest(base, '/download/head-dl.txt', { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.body.length).toBe(0)
    expect(head.headers.get('content-length')).toBe('12')
    expect(head.headers.get('etag')).toBe(etagOf('twelve bytes'))
  })

  it('GET and HEAD /api/v1/files/<name>: the bytes and the download headers', async () => {
    const content = Buffer.from('the canonical bytes')
    await put('g.bin', content)
    const reply = await get(base, '/api/v1/files/g.bin')
    expect(reply.status).toBe(200)
    expect(reply.body.equals(content)).toBe(true)
    expect(reply.headers.get('etag')).toBe(etagOf(content))
    const head = await httpRequest(base, '/api/v1/files/g.bin', { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.body.length).toBe(0)
    expect(head.headers.get('content-length')).toBe(String(content.length))
    expect(head.headers.get('etag')).toBe(etagOf(content))
    expect(head.headers.get('accept-ranges')).toBe('bytes')
    expectError(await get(base, '/api/v1/files/absent.bin'), 404, 'ERR_NOT_FOUND')
    const headMissing = await httpRequest(base, '/api/v1/files/absent.bin', { method: 'HEAD' })
    expect(headMissing.status).toBe(404)
  })

  it('GET /api/v1/files: {files: [rows]}; GET /api/v1/stat/<name>: one row', async () => {
    await put('listed-v1.txt', 'abcd')
    const { files } = expectJson<{ files: Record<string, unknown>[] }>(
      await get(base, '/api/v1/files'),
    )
    const row = files.find((f) => f.name === 'listed-v1.txt')
    expect(row).toMatchObject({ size: 4, servers: ['A'], locked: false, locks: [] })
    const stat = expectJson(await get(base, '/api/v1/stat/listed-v1.txt'))
    expect(stat).toMatchObject({ name: 'listed-v1.txt', size: 4, servers: ['A'], locked: false })
    expect(stat.mtime).toBe(row!.mtime)
    expectError(await get(base, '/api/v1/stat/absent.txt'), 404, 'ERR_NOT_FOUND')
  })

  it('POST /api/v1/append/<name>: appends; 404 for a missing file', async () => {
    await put('ap.txt', 'a')
    const reply = await httpRequest(base, '/api/v1/append/ap.txt', { method: 'POST', body: 'b' })
    expect(expectJson(reply)).toMatchObject({ name: 'ap.txt', sha256: sha256('b') })
    expect(onDisk('ap.txt').toString()).toBe('ab')
    expectError(
      await httpRequest(base, '/api/v1/append/absent.txt', { method: 'POST', body: 'x' }),
      404,
      'ERR_NOT_FOUND',
    )
  })

  it('POST /api/v1/rename: JSON {from, to}; 404, 409, and 400 for a bad body', async () => {
    await put('from.txt', 'moving')
    await put('taken.txt', 'taken')
    const rename = (json: unknown) =>
      httpRequest(base, '/api/v1/rename', { method: 'POST', json, clientId: ID })
    expect(expectJson(await rename({ from: 'from.txt', to: 'sub/to.txt' }))).toEqual({
      from: 'from.txt',
      to: 'sub/to.txt',
    })
    expect(onDisk('sub/to.txt').toString()).toBe('moving')
    expect(existsSync(path.join(server.root, 'from.txt'))).toBe(false)
    expectError(await rename({ from: 'from.txt', to: 'x.txt' }), 404, 'ERR_NOT_FOUND')
    expectError(await rename({ from: 'sub/to.txt', to: 'taken.txt' }), 409, 'ERR_EXISTS')
    expectError(await rename({ from: 'sub/to.txt' }), 400, 'ERR_BAD_REQUEST')
    expect(onDisk('taken.txt').toString()).toBe('taken')
  })

  it('DELETE /api/v1/files/<name>: {name}; then 404', async () => {
    await put('del.txt', 'x')
    const reply = await httpRequest(base, '/api/v1/files/del.txt', { method: 'DELETE' })
    expect(expectJson(reply)).toEqual({ name: 'del.txt' })
    expect(existsSync(path.join(server.root, 'del.txt'))).toBe(false)
    expectError(
      await httpRequest(base, '/api/v1/files/del.txt', { method: 'DELETE' }),
      404,
      'ERR_NOT_FOUND',
    )
  })

  it('GET /api/v1/locks and the lock endpoints', async () => {
    await put('lk.txt', 'lock me')
    const lock = await httpRequest(base, '/api/v1/locks/lk.txt', {
      method: 'POST',
      clientId: 'holder',
      json: { ttlSeconds: 600 },
    })
    const held = expectJson(lock)
    expect(held).toMatchObject({ name: 'lk.txt', server: 'A', owner: 'holder', queued: 0 })
    expect(held.expiresAt - held.since).toBeGreaterThan(590_000)
    expect(held.expiresAt - held.since).toBeLessThanOrEqual(600_000)
    const { locks } = expectJson<{ locks: Record<string, unknown>[] }>(
      await get(base, '/api/v1/locks'),
    )
    expect(locks).toEqual([held])
    const status = expectJson(await get(base, '/api/v1/locks/lk.txt?ClientId=holder'))
    expect(status).toMatchObject({ name: 'lk.txt', locked: true, owner: 'holder', yours: true })
    const unlock = await httpRequest(base, '/api/v1/locks/lk.txt', {
      method: 'DELETE',
      clientId: 'holder',
    })
    expect(expectJson(unlock)).toEqual({
      name: 'lk.txt',
      owner: 'holder',
      forced: false,
      applied: 0,
      conflicts: 0,
    })
    expect(expectJson(await get(base, '/api/v1/locks')).locks).toEqual([])
  })

  it('GET /api/v1/log: {entries: [events]} of what was done', async () => {
    const id = 'v1-logger'
    await httpRequest(base, '/api/v1/files/logv1.txt', { method: 'PUT', body: 'x', clientId: id })
    await httpRequest(base, '/api/v1/append/logv1.txt', { method: 'POST', body: 'y', clientId: id })
    await httpRequest(base, '/api/v1/rename', {
      method: 'POST',
      json: { from: 'logv1.txt', to: 'logv1b.txt' },
      clientId: id,
    })
    await httpRequest(base, '/api/v1/files/logv1b.txt', { method: 'DELETE', clientId: id })
    const { entries } = expectJson<{ entries: Record<string, unknown>[] }>(
      await get(base, '/api/v1/log?limit=10000'),
    )
    const mine = entries.filter((e) => e.client === id)
    expect(mine.map((e) => e.op)).toEqual([
      expect.stringMatching(/^(upload|create)$/),
      'append',
      'rename',
      'delete',
    ])
    expect(mine.map((e) => e.name)).toEqual(['logv1.txt', 'logv1.txt', 'logv1.txt', 'logv1b.txt'])
    const since = mine[1]!.seq as number
    const after = expectJson(await get(base, `/api/v1/log?since=${since}`)).entries as {
      seq: number
    }[]
    expect(after[0]!.seq).toBeGreaterThan(since)
    expect(after.map((e) => e.seq)).toEqual(
      entries.map((e) => e.seq as number).filter((s) => s > since),
    )
  })

  it('GET /api/v1/status: as `status --json`', async () => {
    const status = expectJson(await get(base, '/api/v1/status'))
    expect(status.server).toMatchObject({ name: 'A', root: expect.any(String) })
    expect(status.clients).toMatchObject({ max: 9 })
    expect(Array.isArray(status.peers)).toBe(true)
    expect(status.sync).toHaveProperty('state')
    expect(Array.isArray(status.locks)).toBe(true)
  })

  it('GET /api/v1/openapi.json: an OpenAPI 3 document listing the paths', async () => {
    const doc = expectJson(await get(base, '/api/v1/openapi.json'))
    expect(String(doc.openapi)).toMatch(/^3\./)
    const paths = Object.keys(doc.paths ?? {})
    const expected = [
      '/upload',
      '/download/',
      '/list',
      '/write/',
      '/append/',
      '/rename/',
      '/delete/',
      '/check_file/',
      '/log',
      '/heartbeat',
      '/api/v1/files',
      '/api/v1/files/',
      '/api/v1/append/',
      '/api/v1/rename',
      '/api/v1/stat/',
      '/api/v1/locks',
      '/api/v1/locks/',
      '/api/v1/log',
      '/api/v1/events',
      '/api/v1/status',
    ]
    const missing = expected.filter(
      (prefix) => !paths.some((p) => (prefix.endsWith('/') ? p.startsWith(prefix) : p === prefix)),
    )
    expect(missing, `paths in the document: ${paths.join(', ')}`).toEqual([])
  })
})
