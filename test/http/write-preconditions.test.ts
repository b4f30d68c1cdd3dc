// Writes that must not happen: If-Match with a stale ETag and If-None-Match: * on an existing file
// answer 412 ERR_PRECONDITION, a Content-Digest that does not match the body answers 400
// ERR_INTEGRITY — and in each case the file on disk is byte for byte what it was.
import { existsSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  contentDigest,
  etagOf,
  expectError,
  expectJson,
  httpRequest,
  startServer,
  tempFilesIn,
  waitFor,
  type HttpOptions,
  type ServerHandle,
} from '../helpers/index.js'

const ORIGINAL = 'the original content\n'

describe('HTTP: conditional writes and Content-Digest', () => {
  let server: ServerHandle
  let base: string
  beforeAll(async () => {
    server = await startServer({ http: true })
    base = server.httpUrl!
  })
  const file = (name: string) => path.join(server.root, name)

  /** A fresh file holding ORIGINAL; returns a check that it is still exactly that. */
  async function fresh(name: string): Promise<() => void> {
    const up = await httpRequest(base, `/upload?name=${name}`, { method: 'POST', body: ORIGINAL })
    expect(up.status).toBe(200)
    const before = readFileSync(file(name))
    const mtime = statSync(file(name)).mtimeMs
    return () => {
      expect(readFileSync(file(name)).equals(before), `${name} is unchanged`).toBe(true)
      expect(statSync(file(name)).mtimeMs, `${name}'s mtime`).toBe(mtime)
    }
  }

  /** Every write endpoint, as [label, path, options] for `name` with `headers`. */
  const writes = (
    name: string,
    headers: Record<string, string>,
    body = 'new',
  ): [string, string, HttpOptions][] => [
    ['PUT /api/v1/files', `/api/v1/files/${name}`, { method: 'PUT', body, headers }],
    ['POST /write', `/write/${name}`, { method: 'POST', body, headers }],
    ['POST /append', `/append/${name}`, { method: 'POST', body, headers }],
    ['POST /api/v1/append', `/api/v1/append/${name}`, { method: 'POST', body, headers }],
    ['POST /upload raw', `/upload?name=${name}`, { method: 'POST', body, headers }],
    ['DELETE /api/v1/files', `/api/v1/files/${name}`, { method: 'DELETE', headers }],
  ]

  it('If-Match with a stale ETag: 412 on every write, the file unchanged', async () => {
    const unchanged = await fresh('im.txt')
    for (const [label, url, options] of writes('im.txt', { 'if-match': etagOf('stale') })) {
      const reply = await httpRequest(base, url, options)
      expect(reply.status, label).toBe(412)
      expectError(reply, 412, 'ERR_PRECONDITION')
      unchanged()
    }
  })

  it('If-Match with a stale ETag on a multipart upload: 412, unchanged', async () => {
    const unchanged = await fresh('im-form.txt')
    const form = new FormData()
    form.append('file', new Blob(['new']), 'im-form.txt')
    const reply = await httpRequest(base, '/upload', {
      method: 'POST',
      body: form,
      headers: { 'if-match': etagOf('stale') },
    })
    expectError(reply, 412, 'ERR_PRECONDITION')
    unchanged()
  })

  it('If-Match with the current ETag: the write happens', async () => {
    await fresh('im-ok.txt')
    const reply = await httpRequest(base, '/api/v1/files/im-ok.txt', {
      method: 'PUT',
      body: 'replaced',
      headers: { 'if-match': etagOf(ORIGINAL) },
    })
    expectJson(reply)
    expect(readFileSync(file('im-ok.txt'), 'utf8')).toBe('replaced')
    // Now the old ETag is stale.
    const again = await httpRequest(base, '/write/im-ok.txt', {
      method: 'POST',
      body: 'again',
      headers: { 'if-match': etagOf(ORIGINAL) },
    })
    expectError(again, 412, 'ERR_PRECONDITION')
    expect(readFileSync(file('im-ok.txt'), 'utf8')).toBe('replaced')
    const del = await httpRequest(base, '/api/v1/files/im-ok.txt', {
      method: 'DELETE',
      headers: { 'if-match': etagOf('replaced') },
    })
    expectJson(del)
    expect(existsSync(file('im-ok.txt'))).toBe(false)
  })

  it('If-None-Match: * on an existing file: 412, unchanged; on a new name it creates', async () => {
    const unchanged = await fresh('inm.txt')
    const headers = { 'if-none-match': '*' }
    for (const [label, url, options] of writes('inm.txt', headers).filter(([l]) =>
      /PUT|upload/.test(l),
    )) {
      const reply = await httpRequest(base, url, options)
      expect(reply.status, label).toBe(412)
      expectError(reply, 412, 'ERR_PRECONDITION')
      unchanged()
    }
    const created = await httpRequest(base, '/api/v1/files/inm-new.txt', {
      method: 'PUT',
      body: 'brand new',
      headers,
    })
    expectJson(created, 201)
    expect(readFileSync(file('inm-new.txt'), 'utf8')).toBe('brand new')
  })

  it('Content-Digest that does not match the body: 400 ERR_INTEGRITY, nothing changes', async () => {
    const unchanged = await fresh('cd.txt')
    const wrong = { 'content-digest': contentDigest('not the body') }
    for (const [label, url, options] of writes('cd.txt', wrong).filter(
      ([l]) => l !== 'DELETE /api/v1/files',
    )) {
      const reply = await httpRequest(base, url, options)
      expect(reply.status, `${label}: ${reply.text}`).toBe(400)
      expectError(reply, 400, 'ERR_INTEGRITY')
      unchanged()
    }
    // A new name is not created either.
    const created = await httpRequest(base, '/api/v1/files/cd-new.txt', {
      method: 'PUT',
      body: 'x',
      headers: wrong,
    })
    expectError(created, 400, 'ERR_INTEGRITY')
    expect(existsSync(file('cd-new.txt'))).toBe(false)
    await waitFor(() => tempFilesIn(server.root).length === 0, {
      timeoutMs: 5_000,
      what: 'no temp file left by the refused bodies',
    })
  })

  it('Content-Digest that matches: accepted', async () => {
    await fresh('cd-ok.txt')
    const reply = await httpRequest(base, '/write/cd-ok.txt', {
      method: 'POST',
      body: 'checked body',
      headers: { 'content-digest': contentDigest('checked body') },
    })
    expectJson(reply)
    expect(readFileSync(file('cd-ok.txt'), 'utf8')).toBe('checked body')
  })
})
