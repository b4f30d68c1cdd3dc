// Bad input that is not a name: malformed multipart forms (400 ERR_BAD_REQUEST, nothing stored),
// oversized headers (431 or the connection closed), hundreds of garbage and half-open connections
// (a normal request still answers at once), and a slowloris (closed by the server).
import { readFileSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  deadline,
  expectJson,
  expectRawError,
  get,
  multipartBody,
  rawRequest,
  registerCleanup,
  snapshotTree,
  startServer,
  tempFilesIn,
  waitFor,
  type ServerHandle,
} from '../helpers/index.js'

/** The headers' deadline the slowloris server is started with (the default is 10 s). */
const HEADERS_TIMEOUT_MS = 1_500
const TEMP = '.tandem-tmp-'

function connect(base: string): Promise<net.Socket> {
  const url = new URL(base)
  const socket = net.connect({ host: url.hostname, port: Number(url.port) })
  registerCleanup(() => void socket.destroy())
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket))
    socket.once('error', reject)
  })
}

/** Resolves when `socket` has closed (whatever the server sent before, collected). */
function closedOf(socket: net.Socket): Promise<string> {
  let received = ''
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')))
  socket.on('error', () => {})
  return new Promise((resolve) => {
    if (socket.destroyed) resolve(received)
    socket.once('close', () => resolve(received))
  })
}

describe('HTTP: bad requests', () => {
  let server: ServerHandle
  let base: string
  beforeAll(async () => {
    server = await startServer({ http: true })
    base = server.httpUrl!
  })

  /** Everything under the root but temp files (whose timing has a test of its own). */
  const files = () =>
    Object.fromEntries(snapshotTree(server.root, (rel) => rel.split('/').pop()!.startsWith(TEMP)))

  async function expectNothingStored(before: Record<string, string>): Promise<void> {
    await waitFor(() => tempFilesIn(server.root).length === 0, {
      timeoutMs: 5_000,
      what: 'no temp file left',
    })
    expect(files()).toEqual(before)
  }

  /** POST /upload with this body, as this Content-Type (Content-Length given). */
  const postUpload = (contentType: string, body: Buffer) =>
    rawRequest(base, {
      method: 'POST',
      path: '/upload',
      headers: { 'content-type': contentType, 'content-length': body.length },
      body,
    })

  it('a multipart body whose boundary is not the declared one: 400 ERR_BAD_REQUEST', async () => {
    const before = files()
    const body = multipartBody('the-real-boundary', [
      { name: 'file', filename: 'mp1.txt', content: 'never stored' },
    ])
    const reply = await postUpload('multipart/form-data; boundary=another-boundary', body)
    expectRawError(reply, 400, 'ERR_BAD_REQUEST')
    await expectNothingStored(before)
  })

  it('a multipart content type without a boundary: 400 ERR_BAD_REQUEST', async () => {
    const before = files()
    const body = multipartBody('b', [{ name: 'file', filename: 'mp2.txt', content: 'x' }])
    const reply = await postUpload('multipart/form-data', body)
    expectRawError(reply, 400, 'ERR_BAD_REQUEST')
    await expectNothingStored(before)
  })

  it('a truncated multipart form (no closing boundary): 400 ERR_BAD_REQUEST, nothing stored', async () => {
    const before = files()
    const whole = multipartBody(
      'trunc-boundary',
      [{ name: 'file', filename: 'mp3.txt', content: 'cut short '.repeat(1000) }],
      { close: false },
    )
    // The body ends (Content-Length says so) in the middle of the file part.
    const body = whole.subarray(0, whole.length - 500)
    const reply = await postUpload('multipart/form-data; boundary=trunc-boundary', body)
    expectRawError(reply, 400, 'ERR_BAD_REQUEST')
    await expectNothingStored(before)
  })

  it("a broken form's temp file is gone when its 400 arrives (and does not appear after)", async () => {
    const seen: string[] = []
    for (let round = 0; round < 10; round++) {
      const whole = multipartBody(
        'late-boundary',
        [{ name: 'file', filename: `late-${round}.txt`, content: 'cut short '.repeat(1000) }],
        { close: false },
      )
      const body = whole.subarray(0, whole.length - 500)
      const reply = await postUpload('multipart/form-data; boundary=late-boundary', body)
      expect(reply.status).toBe(400)
      // Watched for a moment after the answer: the request's work is over, nothing may appear.
      const until = Date.now() + 150
      while (Date.now() < until) {
        for (const temp of tempFilesIn(server.root))
          if (!seen.some((s) => s.startsWith(temp))) seen.push(`${temp} (round ${round})`)
        await new Promise((resolve) => setTimeout(resolve, 2))
      }
    }
    expect(seen).toEqual([])
  })

  it('a multipart form without a `file` field: 400 ERR_BAD_REQUEST', async () => {
    const before = files()
    const body = multipartBody('nf-boundary', [{ name: 'name', content: 'mp4.txt' }])
    const reply = await postUpload('multipart/form-data; boundary=nf-boundary', body)
    expectRawError(reply, 400, 'ERR_BAD_REQUEST')
    await expectNothingStored(before)
  })

  it('a raw upload without ?name=, a JSON write without content, bad JSON: 400', async () => {
    const before = files()
    const noName = await rawRequest(base, {
      method: 'POST',
      path: '/upload',
      headers: { 'content-type': 'application/octet-stream' },
      body: 'nameless',
    })
    // A missing name: a malformed request, or an (empty) bad name; either way a 400.
    expect(noName.status, noName.text).toBe(400)
    expect(['ERR_BAD_REQUEST', 'ERR_BAD_PATH']).toContain(noName.json().error.code)
    const json = (body: string) =>
      rawRequest(base, {
        method: 'POST',
        path: '/api/v1/rename',
        headers: { 'content-type': 'application/json' },
        body,
      })
    expectRawError(await json('{"from": "a.txt", "to": '), 400, 'ERR_BAD_REQUEST')
    expectRawError(await json('{"from": 1, "to": []}'), 400, 'ERR_BAD_REQUEST')
    expect(files()).toEqual(before)
  })

  it('a JSON body over 1 MiB: 413 ERR_TOO_LARGE, the file unchanged', async () => {
    await rawRequest(base, {
      method: 'POST',
      path: '/upload?name=json-big.txt',
      headers: { 'content-type': 'application/octet-stream' },
      body: 'small',
    })
    const body = JSON.stringify({ content: 'x'.repeat(1024 * 1024 + 10) })
    const reply = await rawRequest(base, {
      method: 'POST',
      path: '/write/json-big.txt',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      body,
    })
    expectRawError(reply, 413, 'ERR_TOO_LARGE')
    expect(readFileSync(path.join(server.root, 'json-big.txt'), 'utf8')).toBe('small')
    // A raw body of the same size is a file body: no limit but the disk.
    const raw = await rawRequest(base, {
      method: 'POST',
      path: '/write/json-big.txt',
      headers: { 'content-type': 'application/octet-stream' },
      body,
    })
    expect(raw.status, raw.text).toBe(200)
    expect(readFileSync(path.join(server.root, 'json-big.txt'), 'utf8')).toBe(body)
  })

  it('headers over 16 KiB: 431, or the connection closed; the server goes on', async () => {
    const huge = 'x'.repeat(20 * 1024)
    try {
      const reply = await rawRequest(base, { path: '/list', headers: { 'x-huge': huge } })
      expect(reply.status).toBe(431)
    } catch (err) {
      expect(String(err)).toMatch(/ECONNRESET|socket hang up|EPIPE/)
    }
    expect((await get(base, '/heartbeat')).status).toBe(200)
  })

  it('hundreds of garbage and half-open connections: a normal request still answers at once', async () => {
    const junk = await Promise.all(Array.from({ length: 100 }, () => connect(base)))
    const partial = await Promise.all(Array.from({ length: 100 }, () => connect(base)))
    const junkClosed = junk.map((socket, i) => {
      const closed = closedOf(socket)
      socket.write(
        i % 2 === 0
          ? Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x00, 0x13, 0x37, 0x0d, 0x0a, 0x0d, 0x0a])
          : `BREW /coffee HTCPCP/1.0 ${'\u0001'.repeat(20)}\r\n\r\n`,
      )
      return closed
    })
    for (const socket of partial) {
      void closedOf(socket)
      socket.write('GET /list HTTP/1.1\r\nHo')
    }
    // The junk is answered (400) and closed by the server.
    const answers = await deadline(Promise.all(junkClosed), 10_000, 'the junk connections to close')
    expect(answers.filter((a) => a !== '' && !a.startsWith('HTTP/1.1 400'))).toEqual([])
    // With the half-open ones still open, a normal request answers at once (a generous deadline
    // for a loaded machine, not a measure of speed).
    const reply = await deadline(get(base, '/list'), 3_000, 'a normal request beside them')
    expect(reply.status).toBe(200)
    expect(partial.filter((socket) => !socket.destroyed).length).toBeGreaterThan(0)
    for (const socket of partial) socket.destroy()
    expect(expectJson(await get(base, '/heartbeat')).ok).toBe(true)
  })

  it('a slowloris (headers trickled) is closed by the server', async () => {
    const slow = await startServer({
      http: true,
      extraArgs: ['--http-headers-timeout-ms', String(HEADERS_TIMEOUT_MS)],
    })
    const socket = await connect(slow.httpUrl!)
    const closed = closedOf(socket)
    const started = Date.now()
    const request = 'GET /list HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' + 'a'.repeat(1000)
    let sent = 0
    const trickle = setInterval(() => {
      if (socket.destroyed || sent >= request.length) return
      socket.write(request[sent++]!)
    }, 100)
    registerCleanup(() => clearInterval(trickle))
    // Closed within the deadline plus the server's check interval: well before the 100 s the
    // trickle would take to finish.
    const answer = await deadline(closed, HEADERS_TIMEOUT_MS + 8_000, 'the server to close it')
    clearInterval(trickle)
    const heldMs = Date.now() - started
    expect(heldMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 100)
    expect(sent).toBeLessThan(request.length)
    // Closed, with or without an answer; an answer is a 408 with the contract's JSON error.
    if (answer !== '') {
      expect(answer).toMatch(/^HTTP\/1\.1 408 /)
      const json = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as {
        error?: { code?: string }
      }
      expect(json.error?.code, answer).toBe('ERR_TIMEOUT')
    }
    expect((await get(slow.httpUrl!, '/heartbeat')).status).toBe(200)
  })
})
