// Names that try to leave the data directory, sent byte for byte (node:http: no normalisation of
// `..` or escapes): 400 ERR_BAD_PATH on every endpoint, and nothing outside the root is read or
// written — a sentinel file beside the root stays untouched and is never served.
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  expectRawError,
  rawRequest,
  snapshotTree,
  startServer,
  tempDir,
  walkTree,
  type RawOptions,
  type ServerHandle,
} from '../helpers/index.js'

const SENTINEL = 'TOP SECRET: the sentinel beside the root\n'

/** Names (as they go in the URL) that must be refused with ERR_BAD_PATH. */
const EVIL: [string, string][] = [
  ['encoded ../', '..%2F..%2Fsentinel.txt'],
  ['encoded ../ to /etc/passwd', '..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd'],
  ['encoded absolute', '%2Fetc%2Fpasswd'],
  ['absolute to the sentinel', 'SENTINEL_ABSOLUTE'],
  ['a .. segment inside', 'a%2F..%2F..%2Fsentinel.txt'],
  ['encoded dots', '%2E%2E%2F%2E%2E%2Fsentinel.txt'],
  ['encoded NUL', 'sentinel.txt%00.png'],
  ['a control character', 'bad%0Aname.txt'],
  ['backslashes', '..%5C..%5Csentinel.txt'],
  ['a plain backslash', '..\\..\\sentinel.txt'],
  ['a temp file name', '.tandem-tmp-abc'],
]

/**
 * Double encoding: decoded once it is `..%2F..%2Fsentinel.txt`, a legal name (no segment is
 * `..`): refused, or taken literally — never decoded twice.
 */
const DOUBLE = '..%252F..%252Fsentinel.txt'

describe('HTTP: path escapes', () => {
  let server: ServerHandle
  let base: string
  let outside: string
  let sentinel: string
  let before: Map<string, string>
  beforeAll(async () => {
    outside = tempDir('tandem-http-jail-')
    const root = path.join(outside, 'srv', 'root')
    const stateDir = path.join(outside, 'srv', 'state')
    mkdirSync(root, { recursive: true })
    mkdirSync(stateDir, { recursive: true })
    // Beside the root, and beside its parent: `../` and `../../` both find one.
    sentinel = path.join(outside, 'srv', 'sentinel.txt')
    writeFileSync(sentinel, SENTINEL)
    writeFileSync(path.join(outside, 'sentinel.txt'), SENTINEL)
    server = await startServer({ http: true, root, stateDir })
    base = server.httpUrl!
    before = snapshotTree(
      outside,
      (rel) => rel.startsWith('srv/state') || rel.startsWith('srv/root'),
    )
  })

  function requestsFor(name: string): [string, RawOptions][] {
    const body = 'overwritten by an escape'
    const json = JSON.stringify({ content: body })
    const raw = { 'content-type': 'application/octet-stream' }
    const asJson = { 'content-type': 'application/json' }
    // No body at all (node:http would send an empty chunked one).
    const none = { 'content-length': 0 }
    return [
      ['GET /download', { path: `/download/${name}` }],
      ['GET /api/v1/files', { path: `/api/v1/files/${name}` }],
      ['HEAD /api/v1/files', { method: 'HEAD', path: `/api/v1/files/${name}` }],
      ['GET /api/v1/stat', { path: `/api/v1/stat/${name}` }],
      ['GET /check_file', { path: `/check_file/${name}` }],
      ['PUT /api/v1/files', { method: 'PUT', path: `/api/v1/files/${name}`, headers: raw, body }],
      ['POST /upload raw', { method: 'POST', path: `/upload?name=${name}`, headers: raw, body }],
      ['POST /write', { method: 'POST', path: `/write/${name}`, headers: raw, body }],
      ['POST /write json', { method: 'POST', path: `/write/${name}`, headers: asJson, body: json }],
      ['POST /append', { method: 'POST', path: `/append/${name}`, headers: raw, body }],
      [
        'POST /api/v1/append',
        { method: 'POST', path: `/api/v1/append/${name}`, headers: raw, body },
      ],
      ['DELETE /delete', { method: 'DELETE', path: `/delete/${name}` }],
      ['DELETE /api/v1/files', { method: 'DELETE', path: `/api/v1/files/${name}` }],
      ['PUT /rename (from)', { method: 'PUT', path: `/rename/${name}/fine.txt`, headers: none }],
      ['PUT /rename (to)', { method: 'PUT', path: `/rename/victim.txt/${name}`, headers: none }],
      [
        'POST /api/v1/locks',
        { method: 'POST', path: `/api/v1/locks/${name}`, headers: asJson, body: '{}' },
      ],
    ]
  }

  const urlName = (name: string) =>
    name === 'SENTINEL_ABSOLUTE' ? encodeURIComponent(sentinel) : name

  function expectNothingOutside(): void {
    const now = snapshotTree(
      outside,
      (rel) => rel.startsWith('srv/state') || rel.startsWith('srv/root'),
    )
    expect(now).toEqual(before)
    expect(readFileSync(sentinel, 'utf8')).toBe(SENTINEL)
  }

  it('every endpoint answers 400 ERR_BAD_PATH, and never the sentinel', async () => {
    await rawRequest(base, {
      method: 'PUT',
      path: '/api/v1/files/victim.txt',
      headers: { 'content-type': 'application/octet-stream' },
      body: 'the victim',
    })
    const rootBefore = snapshotTree(server.root)
    const failures: string[] = []
    for (const [label, name] of EVIL) {
      for (const [endpoint, options] of requestsFor(urlName(name))) {
        const reply = await rawRequest(base, options)
        expect(reply.text).not.toContain('TOP SECRET')
        expect(reply.text).not.toMatch(/root:x?:0:0/)
        const code = reply.text.startsWith('{') ? reply.json().error?.code : undefined
        // A HEAD answer has no body: its status says it.
        const refused = options.method === 'HEAD' || code === 'ERR_BAD_PATH'
        if (reply.status !== 400 || !refused)
          failures.push(
            `${endpoint} ${options.path} (${label}): ${reply.status} ${reply.text.slice(0, 120)}`,
          )
      }
      expectNothingOutside()
    }
    expect(snapshotTree(server.root)).toEqual(rootBefore)
    expect(failures).toEqual([])
  })

  it('a JSON rename with an escaping name: 400 ERR_BAD_PATH', async () => {
    for (const [from, to] of [
      ['victim.txt', '../sentinel.txt'],
      ['../sentinel.txt', 'mine.txt'],
      ['victim.txt', sentinel],
      ['victim.txt', 'a\\..\\..\\b'],
    ]) {
      const reply = await rawRequest(base, {
        method: 'POST',
        path: '/api/v1/rename',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ from, to }),
      })
      expectRawError(reply, 400, 'ERR_BAD_PATH')
    }
    expectNothingOutside()
    expect(readFileSync(path.join(server.root, 'victim.txt'), 'utf8')).toBe('the victim')
  })

  it('plain `..` segments in the URL never leave the root', async () => {
    for (const url of [
      '/download/../sentinel.txt',
      '/download/../../sentinel.txt',
      '/download/a/../../sentinel.txt',
      '/api/v1/files/../../sentinel.txt',
      '/download/%2e%2e/%2e%2e/sentinel.txt',
      '/download//etc/passwd',
    ]) {
      const reply = await rawRequest(base, { path: url })
      expect(reply.text, url).not.toContain('TOP SECRET')
      expect(reply.text, url).not.toMatch(/root:x?:0:0/)
      // Refused as a bad name, or not matched at all: never a 2xx.
      expect([400, 404], `${url}: ${reply.status} ${reply.text}`).toContain(reply.status)
      if (reply.status === 400) expect(reply.json().error.code).toBe('ERR_BAD_PATH')
    }
    const write = await rawRequest(base, {
      method: 'PUT',
      path: '/api/v1/files/../../sentinel.txt',
      headers: { 'content-type': 'application/octet-stream' },
      body: 'overwritten',
    })
    expect(write.status, write.text).toBeGreaterThanOrEqual(400)
    expectNothingOutside()
  })

  it('double encoding is decoded once: refused, or a literal name inside the root', async () => {
    const read = await rawRequest(base, { path: `/download/${DOUBLE}` })
    expect(read.text).not.toContain('TOP SECRET')
    expect([400, 404], `${read.status} ${read.text}`).toContain(read.status)
    const write = await rawRequest(base, {
      method: 'PUT',
      path: `/api/v1/files/${DOUBLE}`,
      headers: { 'content-type': 'application/octet-stream' },
      body: 'literal',
    })
    expectNothingOutside()
    if (write.status === 400) {
      expect(write.json().error.code).toBe('ERR_BAD_PATH')
    } else {
      expect(write.status, write.text).toBe(201)
      expect(write.json().name).toBe('..%2F..%2Fsentinel.txt')
      expect(walkTree(server.root)).toContain('..%2F..%2Fsentinel.txt')
      expect(statSync(path.join(server.root, '..%2F..%2Fsentinel.txt')).isFile()).toBe(true)
    }
  })
})
