// Races across the two front ends of one server (HTTP and the binary protocol, the same
// operations and locks underneath): renames of one file at once, appends at once, and downloads
// while the file is replaced.
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  etagOf,
  expectJson,
  get,
  httpRequest,
  startServer,
  tempFilesIn,
  TestClient,
  type ServerHandle,
} from '../helpers/index.js'

const KiB = 1024

describe('HTTP and binary clients at once', () => {
  let server: ServerHandle
  let base: string
  let binary: TestClient
  beforeAll(async () => {
    server = await startServer({ http: true })
    base = server.httpUrl!
    binary = await TestClient.connect(server.port, { clientId: 'binary-racer' })
  })
  const file = (name: string) => path.join(server.root, name)

  it('an HTTP rename and a binary rename of one file: exactly one wins (20 rounds)', async () => {
    const winners = { http: 0, binary: 0 }
    for (let round = 0; round < 20; round++) {
      const source = `race-${round}.txt`
      const content = `round ${round}\n`
      expect((await binary.upload(source, Buffer.from(content))).ok).toBe(true)
      const httpTarget = `race-${round}-http.txt`
      const binaryTarget = `race-${round}-bin.txt`
      const [viaHttp, viaBinary] = await Promise.all([
        httpRequest(base, `/rename/${source}/${httpTarget}`, {
          method: 'PUT',
          clientId: 'http-racer',
        }),
        binary.rename(source, binaryTarget),
      ])
      const httpWon = viaHttp.status === 200
      expect(
        [httpWon, viaBinary.ok].filter(Boolean),
        `round ${round}: http ${viaHttp.status} ${viaHttp.text}, binary ${JSON.stringify(viaBinary.error)}`,
      ).toHaveLength(1)
      if (httpWon) {
        expect(viaHttp.json()).toEqual({ from: source, to: httpTarget })
        expect(viaBinary.error?.code).toBe('ERR_NOT_FOUND')
        winners.http++
      } else {
        expect(viaHttp.status).toBe(404)
        expect(viaHttp.json().error.code).toBe('ERR_NOT_FOUND')
        winners.binary++
      }
      const winner = httpWon ? httpTarget : binaryTarget
      const loser = httpWon ? binaryTarget : httpTarget
      expect(existsSync(file(source))).toBe(false)
      expect(readFileSync(file(winner), 'utf8')).toBe(content)
      expect(existsSync(file(loser))).toBe(false)
    }
    expect(winners.http + winners.binary).toBe(20)
    expect(tempFilesIn(server.root)).toEqual([])
  })

  it('appends at once, half HTTP and half binary: each lands exactly once, whole', async () => {
    expect((await binary.upload('journal.txt', Buffer.from(''))).ok).toBe(true)
    const perSide = 20
    // Long enough lines that a torn append would show.
    const line = (tag: string, i: number) =>
      `${tag}-${String(i).padStart(2, '0')} ${'.'.repeat(200)}\n`
    const appends: Promise<boolean>[] = []
    for (let i = 0; i < perSide; i++) {
      appends.push(
        httpRequest(base, '/append/journal.txt', {
          method: 'POST',
          body: line('http', i),
          clientId: `http-appender-${i % 3}`,
        }).then((reply) => reply.status === 200),
      )
      appends.push(binary.append('journal.txt', Buffer.from(line('bin', i))).then((r) => r.ok))
    }
    expect((await Promise.all(appends)).every(Boolean)).toBe(true)
    const lines = readFileSync(file('journal.txt'), 'utf8').split('\n').slice(0, -1)
    expect(lines).toHaveLength(2 * perSide)
    const expected = [
      ...Array.from({ length: perSide }, (_, i) => line('http', i).trimEnd()),
      ...Array.from({ length: perSide }, (_, i) => line('bin', i).trimEnd()),
    ].sort()
    expect([...lines].sort()).toEqual(expected)
  })

  it('two PUTs with the same If-Match at once: exactly one wins, the other 412 (10 rounds)', async () => {
    let current = Buffer.from('start')
    expect((await binary.upload('cas.txt', current)).ok).toBe(true)
    for (let round = 0; round < 10; round++) {
      const mine = Buffer.alloc(64 * KiB, `round ${round} a `)
      const theirs = Buffer.alloc(64 * KiB, `round ${round} b `)
      const put = (body: Buffer, clientId: string) =>
        httpRequest(base, '/api/v1/files/cas.txt', {
          method: 'PUT',
          body,
          clientId,
          headers: { 'if-match': etagOf(current) },
        })
      const [a, b] = await Promise.all([put(mine, 'cas-a'), put(theirs, 'cas-b')])
      const statuses = [a.status, b.status].sort()
      expect(statuses, `round ${round}: ${a.text} / ${b.text}`).toEqual([200, 412])
      const winner = a.status === 200 ? mine : theirs
      expect(
        readFileSync(file('cas.txt')).equals(winner),
        `round ${round}: the winner's bytes`,
      ).toBe(true)
      current = winner
    }
  })

  it('If-None-Match: * over HTTP and a binary create of one new name at once: one creates', async () => {
    for (let round = 0; round < 10; round++) {
      const name = `excl-${round}.txt`
      const [viaHttp, viaBinary] = await Promise.all([
        httpRequest(base, `/api/v1/files/${name}`, {
          method: 'PUT',
          body: 'from http',
          clientId: 'excl-http',
          headers: { 'if-none-match': '*' },
        }),
        binary.create(name, Buffer.from('from binary')),
      ])
      const httpWon = viaHttp.status === 201
      expect(
        [httpWon, viaBinary.ok].filter(Boolean),
        `round ${round}: http ${viaHttp.status} ${viaHttp.text}, binary ${JSON.stringify(viaBinary.error)}`,
      ).toHaveLength(1)
      if (httpWon) expect(viaBinary.error?.code).toBe('ERR_EXISTS')
      else expect(viaHttp.status).toBe(412)
      expect(readFileSync(file(name), 'utf8')).toBe(httpWon ? 'from http' : 'from binary')
    }
  })

  it('downloads over HTTP while the file is replaced always see one whole version', async () => {
    const size = 256 * KiB
    const version = (v: number) => Buffer.alloc(size, 0x41 + v)
    expect((await binary.upload('flip.bin', version(0))).ok).toBe(true)
    const versions = 12
    let writing = true
    const writer = (async () => {
      for (let v = 1; v <= versions; v++) {
        // Alternate the front ends: binary upload, HTTP PUT.
        if (v % 2 === 0) expect((await binary.upload('flip.bin', version(v))).ok).toBe(true)
        else
          expectJson(
            await httpRequest(base, '/api/v1/files/flip.bin', {
              method: 'PUT',
              body: version(v),
              clientId: 'flipper',
            }),
          )
      }
      writing = false
    })()
    const seen = new Set<number>()
    const reader = async (id: number) => {
      let reads = 0
      // Until at least one read began after the last write was answered: that one must see it.
      for (let after = false; !after || reads < 3; reads++) {
        after = !writing
        const reply = await get(base, '/download/flip.bin', { clientId: `reader-${id}` })
        expect(reply.status).toBe(200)
        expect(reply.body.length, 'a whole version').toBe(size)
        const first = reply.body[0]!
        expect(first).toBeGreaterThanOrEqual(0x41)
        expect(first).toBeLessThanOrEqual(0x41 + versions)
        expect(reply.body.equals(version(first - 0x41)), `version ${first - 0x41} whole`).toBe(true)
        expect(reply.headers.get('etag'), 'the ETag of the bytes sent').toBe(etagOf(reply.body))
        if (after) expect(first - 0x41, 'a read after the last write sees it').toBe(versions)
        seen.add(first - 0x41)
      }
    }
    await Promise.all([writer, reader(1), reader(2), reader(3)])
    expect(seen.has(versions)).toBe(true)
    expect(seen.size).toBeGreaterThan(1)
  })
})
