// ERR_MOVED over HTTP (http/moved.ts), with real sockets on loopback: a fastify app whose route
// answers ERR_MOVED, and a holder (a plain node:http server) that serves the bytes. 307 to the
// holder with the same path and query; with --proxy-reads (or a script's fetch) the holder's
// answer streamed through, Range and all; never a proxy of a proxied request; a holder that is
// down passes to the next; the 307 goes to a holder that is up, never to one known down.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { TandemError, type Holder } from '../../src/protocol/index.js'
import { registerCleanup } from '../helpers/index.js'
import { deadPort, listenForTest } from '../helpers/http.js'
import { answerMoved, PROXIED_HEADER } from '../../src/server/http/moved.js'

const CONTENT = Buffer.from('0123456789abcdef')

/** A holder serving CONTENT at any path, honouring a simple Range; it records what it was sent. */
async function holder(): Promise<{ http: string; seen: http.IncomingHttpHeaders[] }> {
  const seen: http.IncomingHttpHeaders[] = []
  const server = http.createServer((req, res) => {
    seen.push({ ...req.headers, ':path': req.url ?? '' })
    const headers = {
      'content-type': 'application/octet-stream',
      etag: '"abc"',
      'content-disposition': 'attachment; filename="f.bin"',
      'x-not-passed': 'secret',
    }
    const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '')
    if (range) {
      const [from, to] = [Number(range[1]), Number(range[2])]
      res.writeHead(206, {
        ...headers,
        'content-range': `bytes ${from}-${to}/${CONTENT.length}`,
        'content-length': to - from + 1,
      })
      return res.end(req.method === 'HEAD' ? undefined : CONTENT.subarray(from, to + 1))
    }
    res.writeHead(200, { ...headers, 'content-length': CONTENT.length })
    res.end(req.method === 'HEAD' ? undefined : CONTENT)
  })
  return { http: await listenForTest(server), seen }
}

/** The member that does not hold the file: every route answers ERR_MOVED naming `holders`. */
async function member(holders: Holder[], proxyReads: boolean): Promise<string> {
  const app = Fastify({ forceCloseConnections: true })
  app.route({
    method: ['GET', 'HEAD', 'PUT', 'DELETE'],
    url: '/*',
    handler: () => {
      throw new TandemError('ERR_MOVED', "'f.bin' is not held at A: it is at B", { holders })
    },
  })
  app.setErrorHandler((err, request, reply) =>
    answerMoved(request, reply, (err as TandemError).toWire(), proxyReads),
  )
  await app.listen({ port: 0, host: '127.0.0.1' })
  registerCleanup(() => app.close())
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

const PATH = '/download/dir%2Ff.bin?ClientId=carol&purpose=read'

describe('ERR_MOVED over HTTP', () => {
  it('307 to the holder, same path and query, for every method; the body names the holders', async () => {
    const b = await holder()
    const holders = [{ name: 'B', address: '127.0.0.1:1', http: b.http }]
    const a = await member(holders, false)
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const res = await fetch(`${a}${PATH}`, { method, redirect: 'manual' })
      expect(res.status).toBe(307)
      expect(res.headers.get('location')).toBe(`http://${b.http}${PATH}`)
      expect(await res.json()).toEqual({
        error: { code: 'ERR_MOVED', message: "'f.bin' is not held at A: it is at B", holders },
      })
    }
    // Followed as a client follows it: the holder's bytes.
    const followed = await fetch(`${a}${PATH}`)
    expect(Buffer.from(await followed.arrayBuffer())).toEqual(CONTENT)
    expect(b.seen[0]![':path']).toBe(PATH)
  })

  it('--proxy-reads: the holder answer streamed through (200, 206 for a Range), headers kept', async () => {
    const b = await holder()
    const a = await member([{ name: 'B', address: '127.0.0.1:1', http: b.http }], true)
    const whole = await fetch(`${a}${PATH}`, {
      redirect: 'manual',
      headers: { 'x-tandem-client-id': 'carol' },
    })
    expect(whole.status).toBe(200)
    expect(whole.headers.get('etag')).toBe('"abc"')
    expect(whole.headers.get('content-disposition')).toBe('attachment; filename="f.bin"')
    expect(whole.headers.get('x-not-passed')).toBeNull()
    expect(Buffer.from(await whole.arrayBuffer())).toEqual(CONTENT)
    expect(b.seen[0]).toMatchObject({
      ':path': PATH,
      [PROXIED_HEADER]: '1',
      'x-tandem-client-id': 'carol',
    })

    const part = await fetch(`${a}${PATH}`, { headers: { range: 'bytes=2-5' } })
    expect(part.status).toBe(206)
    expect(part.headers.get('content-range')).toBe(`bytes 2-5/${CONTENT.length}`)
    expect(await part.text()).toBe('2345')

    const head = await fetch(`${a}${PATH}`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.headers.get('etag')).toBe('"abc"')

    // A program's write is not proxied (only the page's own): 307 keeps its method and body.
    const put = await fetch(`${a}${PATH}`, { method: 'PUT', redirect: 'manual', body: 'x' })
    expect(put.status).toBe(307)
  })

  it('a proxied request is never proxied again (a stale view answers 307); a script fetch is proxied', async () => {
    const b = await holder()
    const a = await member([{ name: 'B', address: '127.0.0.1:1', http: b.http }], true)
    const again = await fetch(`${a}${PATH}`, {
      redirect: 'manual',
      headers: { [PROXIED_HEADER]: '1' },
    })
    expect(again.status).toBe(307)
    expect(b.seen).toEqual([])

    // Without --proxy-reads, the page's own fetch() (which a browser would not follow to another
    // origin) is proxied; a program's request (no sec-fetch-site) is redirected.
    const plain = await member([{ name: 'B', address: '127.0.0.1:1', http: b.http }], false)
    const scripted = await fetch(`${plain}${PATH}`, {
      redirect: 'manual',
      headers: { 'sec-fetch-site': 'same-origin' },
    })
    expect(scripted.status).toBe(200)
    expect(Buffer.from(await scripted.arrayBuffer())).toEqual(CONTENT)
    const navigated = await fetch(`${plain}${PATH}`, {
      redirect: 'manual',
      headers: {},
    })
    expect(navigated.status).toBe(307)
  })

  it('a holder that is down passes to the next; none answering, or none with HTTP: 502', async () => {
    const b = await holder()
    const dead = await deadPort()
    const a = await member(
      [
        { name: 'C', address: '127.0.0.1:1', http: dead },
        { name: 'B', address: '127.0.0.1:2', http: b.http },
      ],
      true,
    )
    const res = await fetch(`${a}${PATH}`)
    expect(res.status).toBe(200)
    expect(Buffer.from(await res.arrayBuffer())).toEqual(CONTENT)

    const none = await member([{ name: 'C', address: '127.0.0.1:1', http: dead }], true)
    const failed = await fetch(`${none}${PATH}`)
    expect(failed.status).toBe(502)
    expect(((await failed.json()) as { error: { code: string } }).error.code).toBe(
      'ERR_PEER_UNREACHABLE',
    )

    const noHttp = await member([{ name: 'C', address: '127.0.0.1:1' }], false)
    const refused = await fetch(`${noHttp}${PATH}`, { redirect: 'manual' })
    expect(refused.status).toBe(502)
    expect(await refused.text()).toContain('none of them serves HTTP')
  })

  it('the 307 goes to a holder up now, whatever the order; every holder known down: 502', async () => {
    const b = await holder()
    const dead = await deadPort()
    const a = await member(
      [
        { name: 'C', address: '127.0.0.1:1', http: dead, up: false },
        { name: 'B', address: '127.0.0.1:2', http: b.http, up: true },
      ],
      false,
    )
    const res = await fetch(`${a}${PATH}`, { redirect: 'manual' })
    expect(res.status).toBe(307)
    expect(res.headers.get('location')).toBe(`http://${b.http}${PATH}`)
    // A proxied read tries the holder up first (the one known down is never asked here).
    const proxied = await member(
      [
        { name: 'C', address: '127.0.0.1:1', http: dead, up: false },
        { name: 'B', address: '127.0.0.1:2', http: b.http, up: true },
      ],
      true,
    )
    const read = await fetch(`${proxied}${PATH}`)
    expect(read.status).toBe(200)
    expect(Buffer.from(await read.arrayBuffer())).toEqual(CONTENT)

    const allDown = await member(
      [{ name: 'C', address: '127.0.0.1:1', http: dead, up: false }],
      false,
    )
    const refused = await fetch(`${allDown}${PATH}`, { redirect: 'manual' })
    expect(refused.status).toBe(502)
    expect(await refused.text()).toContain('none of them is up now')
  })
})
