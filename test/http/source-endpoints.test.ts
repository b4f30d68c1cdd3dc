// The short endpoints of docs/HTTP.md (/upload, /download/NAME, …), each with a real request against a real server:
// status, body, headers, the disk, and the change log listing what was done.
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  etagOf,
  expectAttachment,
  expectError,
  expectJson,
  get,
  httpRequest,
  rawRequest,
  sha256,
  startServer,
  tempFilesIn,
  type ServerHandle,
} from '../helpers/index.js'

const ID = 'src-client'

describe('HTTP: the short endpoints', () => {
  let server: ServerHandle
  let base: string
  beforeAll(async () => {
    server = await startServer({ http: true })
    base = server.httpUrl!
  })

  const onDisk = (name: string) => readFileSync(path.join(server.root, name))

  it('POST /upload, multipart: the field `file` is stored under its filename', async () => {
    const content = Buffer.from('multipart upload\n')
    const form = new FormData()
    form.append('file', new Blob([content]), 'form.txt')
    const reply = await httpRequest(base, '/upload', { method: 'POST', body: form, clientId: ID })
    const body = expectJson(reply)
    expect(body).toMatchObject({ name: 'form.txt', size: content.length, sha256: sha256(content) })
    expect(typeof body.mtime).toBe('number')
    expect(onDisk('form.txt').equals(content)).toBe(true)
  })

  it('POST /upload, multipart: a `name` field, or the `name` query, overrides the filename', async () => {
    const form = new FormData()
    form.append('name', 'by-field.txt')
    form.append('file', new Blob(['field wins']), 'ignored.txt')
    expect(
      expectJson(await httpRequest(base, '/upload', { method: 'POST', body: form })).name,
    ).toBe('by-field.txt')
    expect(onDisk('by-field.txt').toString()).toBe('field wins')
    expect(existsSync(path.join(server.root, 'ignored.txt'))).toBe(false)

    const form2 = new FormData()
    form2.append('file', new Blob(['query wins']), 'ignored2.txt')
    const reply = await httpRequest(base, '/upload?name=by-query.txt', {
      method: 'POST',
      body: form2,
    })
    expect(expectJson(reply).name).toBe('by-query.txt')
    expect(onDisk('by-query.txt').toString()).toBe('query wins')
    expect(existsSync(path.join(server.root, 'ignored2.txt'))).toBe(false)
  })

  // The body is streamed: a `name` field after the file part comes too late to name it. Such a
  // form is refused whole (the file is held in its temp file until the form ends), big or small.
  it('POST /upload, multipart: a `name` field after the file part is refused, nothing stored', async () => {
    for (const size of [100, 1024 * 1024]) {
      const form = new FormData()
      form.append('file', new Blob([Buffer.alloc(size, 'name comes last ')]), `late-${size}.bin`)
      form.append('name', `late-field-${size}.bin`)
      const reply = await httpRequest(base, '/upload', { method: 'POST', body: form })
      expectError(reply, 400, 'ERR_BAD_REQUEST')
      expect(existsSync(path.join(server.root, `late-${size}.bin`))).toBe(false)
      expect(existsSync(path.join(server.root, `late-field-${size}.bin`))).toBe(false)
    }
  })

  it('a `name` field after the file part never replaces the file named like the filename', async () => {
    // Whatever the limit, the client asked for another name: storing over this one loses it.
    const bystander = Buffer.from('a bystander, not to be replaced')
    await httpRequest(base, '/upload?name=bystander.bin', { method: 'POST', body: bystander })
    const content = Buffer.alloc(1024 * 1024, 'name comes last ')
    const form = new FormData()
    form.append('file', new Blob([content]), 'bystander.bin')
    form.append('name', 'wanted.bin')
    const reply = await httpRequest(base, '/upload', { method: 'POST', body: form })
    expect(
      onDisk('bystander.bin').equals(bystander),
      `answered ${reply.status} ${reply.text}`,
    ).toBe(true)
    // Refused, or stored under the name asked for.
    if (reply.status === 200) expect(onDisk('wanted.bin').equals(content)).toBe(true)
    else expect(reply.status).toBe(400)
  })

  it('PUT /rename with an empty chunked body (node:http sends one) is a rename', async () => {
    await httpRequest(base, '/upload?name=chunked-from.txt', { method: 'POST', body: 'c' })
    const reply = await rawRequest(base, {
      method: 'PUT',
      path: '/rename/chunked-from.txt/chunked-to.txt',
    })
    expect(reply.status, reply.text).toBe(200)
    expect(onDisk('chunked-to.txt').toString()).toBe('c')
  })

  it('POST /upload, raw body with ?name=; replaces an existing file', async () => {
    const first = await httpRequest(base, '/upload?name=raw.bin', {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.from([0, 1, 2, 255]),
    })
    expect(expectJson(first)).toMatchObject({ name: 'raw.bin', size: 4 })
    expect(onDisk('raw.bin').equals(Buffer.from([0, 1, 2, 255]))).toBe(true)
    const second = await httpRequest(base, '/upload?name=raw.bin', {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.from('replaced'),
    })
    expect(expectJson(second)).toMatchObject({ size: 8, sha256: sha256('replaced') })
    expect(onDisk('raw.bin').toString()).toBe('replaced')
  })

  it('GET /download/<name>: the bytes, with the download headers', async () => {
    const content = Buffer.from('download me, please\n')
    await httpRequest(base, '/upload?name=dl.txt', { method: 'POST', body: content })
    const reply = await get(base, '/download/dl.txt')
    expect(reply.status).toBe(200)
    expect(reply.body.equals(content)).toBe(true)
    expect(reply.headers.get('etag')).toBe(etagOf(content))
    expect(reply.headers.get('content-length')).toBe(String(content.length))
    expect(reply.headers.get('content-type')).toMatch(/^application\/octet-stream/)
    expect(reply.headers.get('accept-ranges')).toBe('bytes')
    expect(reply.headers.get('x-content-type-options')).toBe('nosniff')
    expectAttachment(reply, 'dl.txt')
    const lastModified = Date.parse(reply.headers.get('last-modified') ?? '')
    expect(Number.isNaN(lastModified)).toBe(false)
    expect(Math.abs(lastModified - Date.now())).toBeLessThan(5 * 60_000)
  })

  it('GET /download of a missing file: 404 ERR_NOT_FOUND; an unknown path: 404', async () => {
    expectError(await get(base, '/download/nothing-here.txt'), 404, 'ERR_NOT_FOUND')
    expectError(await get(base, '/no/such/endpoint'), 404, 'ERR_NOT_FOUND')
  })

  it('GET /list: a JSON array of rows, as `ls --json` files', async () => {
    await httpRequest(base, '/upload?name=listed.txt', { method: 'POST', body: 'abc' })
    const rows = expectJson<Record<string, unknown>[]>(await get(base, '/list'))
    expect(Array.isArray(rows)).toBe(true)
    const row = rows.find((r) => r.name === 'listed.txt')
    expect(row).toMatchObject({ name: 'listed.txt', size: 3, servers: ['A'], locked: false })
    expect(typeof row!.index).toBe('number')
    expect(typeof row!.mtime).toBe('number')
    const names = rows.map((r) => r.name as string)
    expect(names).toEqual([...names].sort())
  })

  it('POST /write/<name>: raw body, or JSON {content}; 404 if there is no such file', async () => {
    await httpRequest(base, '/upload?name=w.txt', { method: 'POST', body: 'old content' })
    const raw = await httpRequest(base, '/write/w.txt', {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: 'raw new',
    })
    expect(expectJson(raw)).toMatchObject({ name: 'w.txt', size: 7, sha256: sha256('raw new') })
    expect(onDisk('w.txt').toString()).toBe('raw new')

    const json = await httpRequest(base, '/write/w.txt', {
      method: 'POST',
      json: { content: 'json new ✓' },
    })
    expect(expectJson(json)).toMatchObject({ name: 'w.txt', sha256: sha256('json new ✓') })
    expect(onDisk('w.txt').toString()).toBe('json new ✓')

    expectError(
      await httpRequest(base, '/write/missing.txt', { method: 'POST', body: 'x' }),
      404,
      'ERR_NOT_FOUND',
    )
    expect(existsSync(path.join(server.root, 'missing.txt'))).toBe(false)
  })

  it('a raw body is the content whatever its Content-Type says (except JSON)', async () => {
    await httpRequest(base, '/upload?name=types.txt', { method: 'POST', body: 'start' })
    // text/plain (fetch's label for a string), a form-encoded label (curl --data-binary), none.
    for (const type of ['text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', '']) {
      const body = `typed as [${type}]`
      const reply = await httpRequest(base, '/write/types.txt', {
        method: 'POST',
        headers: type === '' ? {} : { 'content-type': type },
        body: type === '' ? new Blob([body]) : body,
      })
      expect(reply.status, `${type}: ${reply.text}`).toBe(200)
      expect(onDisk('types.txt').toString(), type).toBe(body)
    }
  })

  it('POST /append/<name>: raw body or JSON {content}; sha256 of what was appended', async () => {
    await httpRequest(base, '/upload?name=a.txt', { method: 'POST', body: 'one\n' })
    const raw = await httpRequest(base, '/append/a.txt', {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: 'two\n',
    })
    expect(expectJson(raw)).toMatchObject({ name: 'a.txt', sha256: sha256('two\n') })
    const json = await httpRequest(base, '/append/a.txt', {
      method: 'POST',
      json: { content: 'three\n' },
    })
    expect(expectJson(json)).toMatchObject({ name: 'a.txt', sha256: sha256('three\n') })
    expect(onDisk('a.txt').toString()).toBe('one\ntwo\nthree\n')
    expectError(
      await httpRequest(base, '/append/missing.txt', { method: 'POST', body: 'x' }),
      404,
      'ERR_NOT_FOUND',
    )
  })

  it('PUT /rename/<old>/<new>: {from, to}; 404 ERR_NOT_FOUND, 409 ERR_EXISTS', async () => {
    await httpRequest(base, '/upload?name=r1.txt', { method: 'POST', body: 'r1' })
    await httpRequest(base, '/upload?name=r2.txt', { method: 'POST', body: 'r2' })
    expect(expectJson(await httpRequest(base, '/rename/r1.txt/r3.txt', { method: 'PUT' }))).toEqual(
      { from: 'r1.txt', to: 'r3.txt' },
    )
    expect(existsSync(path.join(server.root, 'r1.txt'))).toBe(false)
    expect(onDisk('r3.txt').toString()).toBe('r1')
    expectError(
      await httpRequest(base, '/rename/r1.txt/r4.txt', { method: 'PUT' }),
      404,
      'ERR_NOT_FOUND',
    )
    expectError(
      await httpRequest(base, '/rename/r3.txt/r2.txt', { method: 'PUT' }),
      409,
      'ERR_EXISTS',
    )
    expect(onDisk('r2.txt').toString()).toBe('r2')
    expect(onDisk('r3.txt').toString()).toBe('r1')
  })

  it('DELETE /delete/<name>: {name}; then 404', async () => {
    await httpRequest(base, '/upload?name=d.txt', { method: 'POST', body: 'bye' })
    expect(expectJson(await httpRequest(base, '/delete/d.txt', { method: 'DELETE' }))).toEqual({
      name: 'd.txt',
    })
    expect(existsSync(path.join(server.root, 'd.txt'))).toBe(false)
    expectError(
      await httpRequest(base, '/delete/d.txt', { method: 'DELETE' }),
      404,
      'ERR_NOT_FOUND',
    )
  })

  it('GET /check_file/<name>: not locked', async () => {
    await httpRequest(base, '/upload?name=c.txt', { method: 'POST', body: 'c' })
    const body = expectJson(await get(base, '/check_file/c.txt?ClientId=someone'))
    expect(body).toEqual({
      name: 'c.txt',
      locked: false,
      owner: null,
      server: null,
      since: null,
      expiresAt: null,
      queued: 0,
      yours: false,
    })
  })

  it('GET /heartbeat: {server, ok, uptimeMs, peers}', async () => {
    const body = expectJson(await get(base, '/heartbeat'))
    expect(body).toMatchObject({ server: 'A', ok: true, peers: { up: 0, down: 0 } })
    expect(body.uptimeMs).toBeGreaterThan(0)
  })

  it('GET /log: the operations done, oldest first, with their client; since and limit', async () => {
    const id = 'log-client'
    await httpRequest(base, '/upload?name=logged.txt', { method: 'POST', body: '1', clientId: id })
    await httpRequest(base, '/write/logged.txt', { method: 'POST', body: '22', clientId: id })
    await httpRequest(base, '/append/logged.txt', { method: 'POST', body: '3', clientId: id })
    await httpRequest(base, '/rename/logged.txt/logged2.txt', { method: 'PUT', clientId: id })
    await httpRequest(base, '/delete/logged2.txt', { method: 'DELETE', clientId: id })

    const events = expectJson<Record<string, unknown>[]>(await get(base, '/log?limit=1000'))
    expect(Array.isArray(events)).toBe(true)
    const seqs = events.map((e) => e.seq as number)
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
    const mine = events.filter((e) => e.client === id)
    expect(mine.map((e) => [e.op, e.name, e.to])).toEqual([
      ['upload', 'logged.txt', null],
      ['write', 'logged.txt', null],
      ['append', 'logged.txt', null],
      ['rename', 'logged.txt', 'logged2.txt'],
      ['delete', 'logged2.txt', null],
    ])
    for (const event of mine) {
      expect(event).toMatchObject({ server: 'A', client: id })
      expect(Object.keys(event).sort()).toEqual(
        ['client', 'detail', 'name', 'op', 'seq', 'server', 'size', 'time', 'to'].sort(),
      )
    }
    expect(mine[0]!.size).toBe(1)

    // since: only what came after; limit: the latest N.
    const since = mine[2]!.seq as number
    const after = expectJson<Record<string, unknown>[]>(await get(base, `/log?since=${since}`))
    expect(after.map((e) => e.seq)).toEqual(seqs.filter((s) => s > since))
    const latest = expectJson<Record<string, unknown>[]>(await get(base, '/log?limit=2'))
    expect(latest.map((e) => e.seq)).toEqual(seqs.slice(-2))
    expectError(await get(base, '/log?limit=10001'), 400, 'ERR_BAD_REQUEST')
  })

  it('a folder is not a file: 400 ERR_IS_DIRECTORY; a file as a folder: 409 ERR_EXISTS', async () => {
    await httpRequest(base, '/upload?name=dir%2Finside.txt', { method: 'POST', body: 'in' })
    expectError(await get(base, '/download/dir'), 400, 'ERR_IS_DIRECTORY')
    expectError(
      await httpRequest(base, '/delete/dir', { method: 'DELETE' }),
      400,
      'ERR_IS_DIRECTORY',
    )
    expectError(
      await httpRequest(base, '/upload?name=dir', { method: 'POST', body: 'over a folder' }),
      400,
      'ERR_IS_DIRECTORY',
    )
    expect(onDisk('dir/inside.txt').toString()).toBe('in')
    expectError(
      await httpRequest(base, '/upload?name=dir%2Finside.txt%2Fdeeper.txt', {
        method: 'POST',
        body: 'under a file',
      }),
      409,
      'ERR_EXISTS',
    )
    expect(onDisk('dir/inside.txt').toString()).toBe('in')
  })

  it('the client id: the header, else ?ClientId=, else http@<address>; a bad one is refused', async () => {
    await httpRequest(base, '/upload?name=who-1.txt', { method: 'POST', body: '1' })
    await httpRequest(base, '/upload?name=who-2.txt&ClientId=by-query', {
      method: 'POST',
      body: '2',
    })
    await httpRequest(base, '/upload?name=who-3.txt&ClientId=by-query', {
      method: 'POST',
      body: '3',
      clientId: 'by-header',
    })
    const events = expectJson<{ name: string; client: string }[]>(
      await get(base, '/log?limit=10000'),
    )
    const client = (name: string) => events.find((e) => e.name === name)?.client
    expect(client('who-1.txt')).toBe('http@127.0.0.1')
    expect(client('who-2.txt')).toBe('by-query')
    expect(client('who-3.txt')).toBe('by-header')
    for (const bad of ['x'.repeat(129), 'tab\there']) {
      expectError(
        await httpRequest(base, `/upload?name=who-bad.txt&ClientId=${encodeURIComponent(bad)}`, {
          method: 'POST',
          body: 'bad',
        }),
        400,
        'ERR_BAD_REQUEST',
      )
    }
    expect(existsSync(path.join(server.root, 'who-bad.txt'))).toBe(false)
  })

  it('leaves no temp file behind', () => {
    expect(tempFilesIn(server.root)).toEqual([])
  })
})
