// The web page's own writes of a file held at other members (http/moved.ts): a browser would not
// follow a script's DELETE or POST (with the page's client id) to another origin, so the member
// passes the request to a holder and answers with its answer — method, path and query, the JSON
// body, the client id and the Idempotency-Key kept. A program's write still gets the 307, and so
// does a write whose body is a stream (a file being received). A holder that refuses the
// connection passes to the next; one that took the request and did not answer is said, not redone
// elsewhere. Real sockets on loopback: a fastify member whose routes answer ERR_MOVED, and plain
// node:http holders that record what they were sent.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { TandemError, type Holder } from '../../src/protocol/index.js'
import { registerCleanup } from '../helpers/index.js'
import { deadPort, listenForTest } from '../helpers/http.js'
import { answerMoved, PROXIED_HEADER } from '../../src/server/http/moved.js'

interface Seen {
  method: string
  path: string
  headers: http.IncomingHttpHeaders
  body: string
}

/** A holder answering every request 200 with a JSON body; `hang`: it never answers. */
async function holder(hang = false): Promise<{ http: string; seen: Seen[] }> {
  const seen: Seen[] = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      })
      if (hang) return req.socket.destroy()
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' })
      res.end(JSON.stringify({ done: 'at the holder' }))
    })
  })
  return { http: await listenForTest(server), seen }
}

/** A member: POST and DELETE parse JSON as the API does; PUT's body stays a stream. */
async function member(holders: Holder[]): Promise<string> {
  const app = Fastify({ forceCloseConnections: true })
  const moved = (): never => {
    throw new TandemError('ERR_MOVED', "'f.txt' is not held at A: it is at B", { holders })
  }
  app.setErrorHandler((err, request, reply) =>
    answerMoved(request, reply, (err as TandemError).toWire(), false),
  )
  app.route({ method: ['POST', 'DELETE'], url: '/api/*', handler: moved })
  await app.register(async (files) => {
    files.removeAllContentTypeParsers()
    files.addContentTypeParser('*', (_request, payload, done) => done(null, payload))
    files.put('/files/*', moved)
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  registerCleanup(() => app.close())
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

/** What a browser sends with the page's own fetch (Node's fetch adds `sec-fetch-mode: cors`). */
const PAGE = { 'sec-fetch-site': 'same-origin', 'x-tandem-client-id': 'web-1' }

describe("the page's writes of a file held elsewhere", () => {
  it('a POST with a JSON body and a DELETE are done at the holder, in the client own name', async () => {
    const b = await holder()
    const a = await member([{ name: 'B', address: '127.0.0.1:1', http: b.http }])
    const rename = await fetch(`${a}/api/rename?x=1`, {
      method: 'POST',
      redirect: 'manual',
      headers: { ...PAGE, 'content-type': 'application/json', 'idempotency-key': 'k-1' },
      body: JSON.stringify({ from: 'f.txt', to: 'g.txt' }),
    })
    expect(rename.status).toBe(200)
    expect(await rename.json()).toEqual({ done: 'at the holder' })
    const removed = await fetch(`${a}/api/files/f.txt`, {
      method: 'DELETE',
      redirect: 'manual',
      headers: { ...PAGE, 'if-match': '"abc"' },
    })
    expect(removed.status).toBe(200)
    expect(b.seen.map((s) => [s.method, s.path, s.body])).toEqual([
      ['POST', '/api/rename?x=1', '{"from":"f.txt","to":"g.txt"}'],
      ['DELETE', '/api/files/f.txt', ''],
    ])
    expect(b.seen[0]!.headers).toMatchObject({
      [PROXIED_HEADER]: '1',
      'x-tandem-client-id': 'web-1',
      'idempotency-key': 'k-1',
      'content-type': 'application/json',
    })
    expect(b.seen[1]!.headers).toMatchObject({ 'x-tandem-client-id': 'web-1', 'if-match': '"abc"' })
  })

  it("a program's write, and a write whose body is a stream, get the 307", async () => {
    const b = await holder()
    const a = await member([{ name: 'B', address: '127.0.0.1:1', http: b.http }])
    const program = await fetch(`${a}/api/files/f.txt`, { method: 'DELETE', redirect: 'manual' })
    expect(program.status).toBe(307)
    expect(program.headers.get('location')).toBe(`http://${b.http}/api/files/f.txt`)
    const put = await fetch(`${a}/files/f.txt`, {
      method: 'PUT',
      redirect: 'manual',
      headers: { ...PAGE, 'content-type': 'application/octet-stream' },
      body: 'new content',
    })
    expect(put.status).toBe(307)
    expect(b.seen).toEqual([])
  })

  it('a holder refusing the connection passes to the next; one that took it and died is said', async () => {
    const dead = await deadPort()
    const b = await holder()
    const a = await member([
      { name: 'C', address: '127.0.0.1:1', http: dead },
      { name: 'B', address: '127.0.0.1:2', http: b.http },
    ])
    const res = await fetch(`${a}/api/files/f.txt`, { method: 'DELETE', headers: PAGE })
    expect(res.status).toBe(200)
    expect(b.seen).toHaveLength(1)

    const hanging = await holder(true)
    const other = await holder()
    const cut = await member([
      { name: 'C', address: '127.0.0.1:1', http: hanging.http },
      { name: 'B', address: '127.0.0.1:2', http: other.http },
    ])
    const failed = await fetch(`${cut}/api/files/f.txt`, { method: 'DELETE', headers: PAGE })
    expect(failed.status).toBe(502)
    const { error } = (await failed.json()) as { error: { code: string; message: string } }
    expect(error.code).toBe('ERR_PEER_UNREACHABLE')
    expect(error.message).toContain('may or may not have been done')
    expect(hanging.seen).toHaveLength(1)
    expect(other.seen).toEqual([])
  })
})
