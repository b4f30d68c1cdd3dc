// A name with folders in URLs: `reports%2Fq1.txt` round-trips through every endpoint; a plain `/`
// works where it is unambiguous; in PUT /rename/<old>/<new> it is refused, and nothing moves.
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  expectAttachment,
  expectJson,
  get,
  httpRequest,
  sha256,
  startServer,
  walkTree,
  type ServerHandle,
} from '../helpers/index.js'

describe('HTTP: names with folders', () => {
  let server: ServerHandle
  let base: string
  beforeAll(async () => {
    server = await startServer({ http: true })
    base = server.httpUrl!
  })
  const onDisk = (name: string) => readFileSync(path.join(server.root, ...name.split('/')))
  const exists = (name: string) => existsSync(path.join(server.root, ...name.split('/')))
  const listed = async () =>
    expectJson<{ name: string }[]>(await get(base, '/list')).map((row) => row.name)

  it('encoded: upload, list, download, rename, delete', async () => {
    const content = Buffer.from('Q1 figures\n')
    const up = await httpRequest(base, '/upload?name=reports%2Fq1.txt', {
      method: 'POST',
      body: content,
    })
    expect(expectJson(up)).toMatchObject({ name: 'reports/q1.txt', sha256: sha256(content) })
    expect(onDisk('reports/q1.txt').equals(content)).toBe(true)
    expect(await listed()).toContain('reports/q1.txt')

    const down = await get(base, '/download/reports%2Fq1.txt')
    expect(down.status).toBe(200)
    expect(down.body.equals(content)).toBe(true)
    expectAttachment(down, 'q1.txt')

    const renamed = await httpRequest(base, '/rename/reports%2Fq1.txt/archive%2F2026%2Fq1.txt', {
      method: 'PUT',
    })
    expect(expectJson(renamed)).toEqual({ from: 'reports/q1.txt', to: 'archive/2026/q1.txt' })
    expect(exists('reports/q1.txt')).toBe(false)
    expect(onDisk('archive/2026/q1.txt').equals(content)).toBe(true)
    expect(await listed()).toContain('archive/2026/q1.txt')

    const deleted = await httpRequest(base, '/delete/archive%2F2026%2Fq1.txt', { method: 'DELETE' })
    expect(expectJson(deleted)).toEqual({ name: 'archive/2026/q1.txt' })
    expect(exists('archive/2026/q1.txt')).toBe(false)
    expect((await listed()).filter((n) => n.startsWith('archive/'))).toEqual([])
  })

  it('multipart: a filename with folders is kept whole', async () => {
    const form = new FormData()
    form.append('name', 'reports/form/q2.txt')
    form.append('file', new Blob(['q2']), 'q2.txt')
    const up = await httpRequest(base, '/upload', { method: 'POST', body: form })
    expect(expectJson(up).name).toBe('reports/form/q2.txt')
    expect(onDisk('reports/form/q2.txt').toString()).toBe('q2')
  })

  it('plain slashes where unambiguous: download, write, append, delete, check_file, v1', async () => {
    const put = await httpRequest(base, '/api/v1/files/plain/a/b.txt', {
      method: 'PUT',
      body: 'one',
    })
    expect(expectJson(put, 201).name).toBe('plain/a/b.txt')
    expect(onDisk('plain/a/b.txt').toString()).toBe('one')

    const down = await get(base, '/download/plain/a/b.txt')
    expect(down.status).toBe(200)
    expect(down.text).toBe('one')
    expect((await get(base, '/api/v1/files/plain/a/b.txt')).text).toBe('one')
    expect(expectJson(await get(base, '/api/v1/stat/plain/a/b.txt')).name).toBe('plain/a/b.txt')

    expect(
      expectJson(await httpRequest(base, '/write/plain/a/b.txt', { method: 'POST', body: 'two' }))
        .name,
    ).toBe('plain/a/b.txt')
    expect(
      expectJson(await httpRequest(base, '/append/plain/a/b.txt', { method: 'POST', body: '+3' }))
        .name,
    ).toBe('plain/a/b.txt')
    expect(onDisk('plain/a/b.txt').toString()).toBe('two+3')
    expect(expectJson(await get(base, '/check_file/plain/a/b.txt')).name).toBe('plain/a/b.txt')

    expect(
      expectJson(await httpRequest(base, '/delete/plain/a/b.txt', { method: 'DELETE' })),
    ).toEqual({ name: 'plain/a/b.txt' })
    expect(exists('plain/a/b.txt')).toBe(false)
  })

  it('names beyond ASCII and with URL characters round-trip, and download as themselves', async () => {
    const names = [
      'résumé.txt',
      '报告/第一季.txt',
      'emoji 😀.txt',
      'say "hi".txt',
      'a;b,c.txt',
      'hash#and?query&amp.txt',
      'plus+space percent%.txt',
    ]
    for (const name of names) {
      const content = Buffer.from(`content of ${name}`)
      const up = await httpRequest(base, `/upload?name=${encodeURIComponent(name)}`, {
        method: 'POST',
        body: content,
      })
      expect(expectJson(up).name, name).toBe(name)
      expect(onDisk(name).equals(content), name).toBe(true)
      const down = await get(base, `/download/${encodeURIComponent(name)}`)
      expect(down.status, name).toBe(200)
      expect(down.body.equals(content), name).toBe(true)
      expectAttachment(down, name.split('/').pop()!)
    }
    const rows = await listed()
    for (const name of names) expect(rows).toContain(name)
  })

  it("Content-Disposition's filename* encodes what RFC 8187 does not allow bare: ' ( ) *", async () => {
    const name = "it's (1)*.txt"
    await httpRequest(base, `/upload?name=${encodeURIComponent(name)}`, {
      method: 'POST',
      body: 'q',
    })
    const down = await get(base, `/download/${encodeURIComponent(name)}`)
    expect(down.text).toBe('q')
    expectAttachment(down, name)
  })

  it('PUT /rename with plain slashes is ambiguous: refused, nothing moves', async () => {
    await httpRequest(base, '/upload?name=amb%2Fx.txt', { method: 'POST', body: 'x' })
    const before = walkTree(server.root)
    // amb/x.txt → y.txt, or amb → x.txt/y.txt? Two names, so the slashes must be encoded.
    const reply = await httpRequest(base, '/rename/amb/x.txt/y.txt', { method: 'PUT' })
    expect(reply.status, reply.text).toBeGreaterThanOrEqual(400)
    expect(reply.status, reply.text).toBeLessThan(500)
    expect(reply.json().error.code).toMatch(/^ERR_(BAD_REQUEST|BAD_PATH|NOT_FOUND)$/)
    expect(walkTree(server.root)).toEqual(before)
    expect(onDisk('amb/x.txt').toString()).toBe('x')
  })
})
