// Review findings against docs/HTTP.md, each a failing test against a real server.
import { execFileSync } from 'node:child_process'
import { openSync, readFileSync, statSync, writeSync, closeSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  etagOf,
  expectJson,
  get,
  httpRequest,
  multipartBody,
  rawRequest,
  sha256,
  startServer,
  type ServerHandle,
} from '../helpers/index.js'

describe('review: HTTP', () => {
  let server: ServerHandle
  let base: string
  beforeAll(async () => {
    server = await startServer({ http: true })
    base = server.httpUrl!
  })

  it('POST /upload multipart of a file over 1 MiB is stored whole (docs: no limit but the disk)', async () => {
    const content = Buffer.alloc(2 * 1024 * 1024 + 17, 0x61)
    const form = new FormData()
    form.append('file', new Blob([content]), 'big-form.bin')
    const reply = await httpRequest(base, '/upload', { method: 'POST', body: form })
    const body = expectJson(reply)
    expect(body).toMatchObject({
      name: 'big-form.bin',
      size: content.length,
      sha256: sha256(content),
    })
    expect(readFileSync(path.join(server.root, 'big-form.bin')).length).toBe(content.length)
  })

  it('a rewrite in place that keeps size and mtime never lets a stale If-Match through', async () => {
    // A file written over HTTP is in the HTTP worker's own hash cache (ops/content-hash.ts), and
    // in the index. Another program then rewrites it in place (same inode) keeping size and mtime
    // (`cp -p` over it, `rsync --inplace -t`). The cache keys on the ctime too, so it misses; the
    // index's fingerprint has no ctime, so a GET's ETag may stay the old one until the file is
    // indexed again (ARCHITECTURE, known limits) — but an If-Match is checked against the content
    // itself, so the old tag cannot overwrite the other program's edit.
    const file = path.join(server.root, 'in-place.txt')
    expectJson(
      await httpRequest(base, '/api/v1/files/in-place.txt', {
        method: 'PUT',
        body: 'version AAAA\n',
      }),
      201,
    )
    const before = statSync(file)
    const ref = path.join(server.stateDir, 'mtime-ref')
    writeFileSync(ref, '')
    execFileSync('touch', ['-r', file, ref]) // the exact (ns) times, kept aside
    const fd = openSync(file, 'r+')
    writeSync(fd, Buffer.from('version BBBB\n'), 0, 13, 0)
    closeSync(fd)
    execFileSync('touch', ['-r', ref, file]) // as `cp -p` / `rsync -t` would set them
    expect(statSync(file).ino).toBe(before.ino)
    expect(statSync(file).mtimeMs).toBe(before.mtimeMs)
    const second = await get(base, '/api/v1/files/in-place.txt')
    expect(second.text).toBe('version BBBB\n')
    // And so a conditional write with the old tag is a lost update: it must be 412.
    const clobber = await httpRequest(base, '/api/v1/files/in-place.txt', {
      method: 'PUT',
      body: 'clobbered\n',
      headers: { 'if-match': etagOf('version AAAA\n') },
    })
    expect(clobber.status).toBe(412)
    expect(readFileSync(file, 'utf8')).toBe('version BBBB\n')
  })

  it('a cross-site simple POST (another Origin, text/plain, no preflight) does not overwrite a file', async () => {
    // Any web page the user visits can send this to 127.0.0.1 without a CORS preflight: a form
    // POST or fetch(..., {mode: 'no-cors', method: 'POST', body: 'text'}).
    const file = path.join(server.root, 'csrf.txt')
    writeFileSync(file, 'precious\n')
    const reply = await rawRequest(base, {
      method: 'POST',
      path: '/write/csrf.txt',
      headers: { origin: 'https://evil.example', 'content-type': 'text/plain' },
      body: 'owned\n',
    })
    expect(reply.status).toBe(403)
    expect(readFileSync(file, 'utf8')).toBe('precious\n')
  })

  it('answers only to loopback names on loopback (DNS rebinding), and lets its own page write', async () => {
    const port = new URL(base).port
    const rebound = await rawRequest(base, {
      method: 'GET',
      path: '/list',
      headers: { host: `evil.example:${port}` },
    })
    expect(rebound.status).toBe(403)
    expect(JSON.parse(rebound.text).error.code).toBe('ERR_CROSS_SITE')
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`]) {
      const own = await rawRequest(base, {
        method: 'POST',
        path: '/write/csrf.txt',
        headers: { host, origin: `http://${host}`, 'content-type': 'text/plain' },
        body: 'mine\n',
      })
      expect(own.status, own.text).toBe(200)
    }
    expect(readFileSync(path.join(server.root, 'csrf.txt'), 'utf8')).toBe('mine\n')
  })

  it('POST /upload?name= with a `name` field after the file part is stored under ?name= (docs: works in any case)', async () => {
    const body = multipartBody('late-q', [
      { name: 'file', filename: 'f.txt', content: 'named by the query' },
      { name: 'name', content: 'late-field.txt' },
    ])
    const reply = await rawRequest(base, {
      method: 'POST',
      path: '/upload?name=by-query-late.txt',
      headers: {
        'content-type': 'multipart/form-data; boundary=late-q',
        'content-length': body.length,
      },
      body,
    })
    expect(reply.status, reply.body.toString()).toBe(200)
    expect(readFileSync(path.join(server.root, 'by-query-late.txt'), 'utf8')).toBe(
      'named by the query',
    )
  })
})
