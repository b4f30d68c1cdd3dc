// Request ids (rid) at one server: a request of one rid is applied at most once, and a replay gets
// the original answer — over the binary protocol and over HTTP (Idempotency-Key).
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  expectError,
  expectJson,
  httpRequest,
  startServer,
  TestClient,
  type ServerHandle,
} from '../helpers/index.js'

const WINDOW = 3 // --request-window: rids kept per client

describe('request ids at one server', () => {
  let server: ServerHandle
  let client: TestClient
  beforeAll(async () => {
    server = await startServer({
      http: true,
      extraArgs: ['--request-window', String(WINDOW)],
    })
    client = await TestClient.connect(server.port, { clientId: 'once-client' })
  })
  afterAll(async () => {
    await client.close()
  })

  const disk = (name: string) => readFileSync(path.join(server.root, name), 'utf8')

  it('the same append sent twice lands once, and both answers are equal', async () => {
    expect((await client.upload('log.txt', Buffer.from('start\n'))).ok).toBe(true)
    const first = await client.call(
      'append',
      { name: 'log.txt', rid: 'once-client:1' },
      Buffer.from('one\n'),
    )
    const again = await client.call(
      'append',
      { name: 'log.txt', rid: 'once-client:1' },
      Buffer.from('one\n'),
    )
    expect(first.ok, JSON.stringify(first.error)).toBe(true)
    expect(again).toEqual(first)
    expect(disk('log.txt')).toBe('start\none\n')
    // A replay from another connection (a reconnect) too.
    const other = await TestClient.connect(server.port, { clientId: 'once-client' })
    try {
      const third = await other.call(
        'append',
        { name: 'log.txt', rid: 'once-client:1' },
        Buffer.from('one\n'),
      )
      expect(third).toEqual(first)
    } finally {
      await other.close()
    }
    expect(disk('log.txt')).toBe('start\none\n')
  })

  it('two connections sending the same append at once: one applies, the other waits and gets its answer', async () => {
    expect((await client.upload('both.txt', Buffer.from(''))).ok).toBe(true)
    const a = await TestClient.connect(server.port, { clientId: 'twin' })
    const b = await TestClient.connect(server.port, { clientId: 'twin' })
    try {
      const body = Buffer.alloc(4 * 1024 * 1024, 'x') // long enough for the two to overlap
      const [ra, rb] = await Promise.all([
        a.call('append', { name: 'both.txt', rid: 'twin:7' }, body),
        b.call('append', { name: 'both.txt', rid: 'twin:7' }, body),
      ])
      expect(ra.ok, JSON.stringify(ra.error)).toBe(true)
      expect(rb).toEqual(ra)
      expect(readFileSync(path.join(server.root, 'both.txt')).length).toBe(body.length)
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('a replayed delete and a replayed rename answer as they did (not ERR_NOT_FOUND)', async () => {
    expect((await client.upload('gone.txt', Buffer.from('g'))).ok).toBe(true)
    const del = await client.call('delete', { name: 'gone.txt', rid: 'once-client:2' })
    expect(del).toMatchObject({ ok: true, result: { name: 'gone.txt' } })
    expect(await client.call('delete', { name: 'gone.txt', rid: 'once-client:2' })).toEqual(del)
    // Without a rid, the same delete is a new request: the file is gone.
    expect((await client.delete('gone.txt')).error?.code).toBe('ERR_NOT_FOUND')

    expect((await client.upload('old.txt', Buffer.from('o'))).ok).toBe(true)
    const mv = await client.call('rename', { from: 'old.txt', to: 'new.txt', rid: 'once-client:3' })
    expect(mv).toMatchObject({ ok: true, result: { from: 'old.txt', to: 'new.txt' } })
    expect(
      await client.call('rename', { from: 'old.txt', to: 'new.txt', rid: 'once-client:3' }),
    ).toEqual(mv)
    expect(disk('new.txt')).toBe('o')
  })

  it('a replayed create answers its result, not ERR_EXISTS', async () => {
    const made = await client.call(
      'create',
      { name: 'made.txt', rid: 'once-client:4' },
      Buffer.from('m'),
    )
    expect(made.ok, JSON.stringify(made.error)).toBe(true)
    expect(
      await client.call('create', { name: 'made.txt', rid: 'once-client:4' }, Buffer.from('m')),
    ).toEqual(made)
  })

  it('a rid reused for another request is refused with ERR_BAD_REQUEST', async () => {
    expect((await client.upload('x.txt', Buffer.from('x'))).ok).toBe(true)
    const first = await client.call(
      'append',
      { name: 'x.txt', rid: 'once-client:5' },
      Buffer.from('1'),
    )
    expect(first.ok).toBe(true)
    const other = await client.call(
      'append',
      { name: 'log.txt', rid: 'once-client:5' },
      Buffer.from('1'),
    )
    expect(other.error?.code).toBe('ERR_BAD_REQUEST')
    expect(disk('log.txt')).toBe('start\none\n')
  })

  it('a failed request is not remembered: its replay runs (and may succeed)', async () => {
    const failed = await client.call(
      'append',
      { name: 'later.txt', rid: 'once-client:6' },
      Buffer.from('l'),
    )
    expect(failed.error?.code).toBe('ERR_NOT_FOUND')
    expect((await client.upload('later.txt', Buffer.from(''))).ok).toBe(true)
    const retried = await client.call(
      'append',
      { name: 'later.txt', rid: 'once-client:6' },
      Buffer.from('l'),
    )
    expect(retried.ok).toBe(true)
    expect(disk('later.txt')).toBe('l')
  })

  it('a rid past the window (more than --request-window newer rids of its client) is applied again', async () => {
    expect((await client.upload('win.txt', Buffer.from(''))).ok).toBe(true)
    const c = await TestClient.connect(server.port, { clientId: 'windowed' })
    try {
      for (let seq = 1; seq <= WINDOW + 1; seq++) {
        const r = await c.call(
          'append',
          { name: 'win.txt', rid: `windowed:${seq}` },
          Buffer.from(`${seq}`),
        )
        expect(r.ok).toBe(true)
      }
      // windowed:2 is still in the window (the newest 3 are 2, 3, 4): a replay lands nothing.
      expect(
        (await c.call('append', { name: 'win.txt', rid: 'windowed:2' }, Buffer.from('2'))).ok,
      ).toBe(true)
      expect(disk('win.txt')).toBe('1234')
      // windowed:1 is past it: applied again, as documented.
      expect(
        (await c.call('append', { name: 'win.txt', rid: 'windowed:1' }, Buffer.from('1'))).ok,
      ).toBe(true)
      expect(disk('win.txt')).toBe('12341')
    } finally {
      await c.close()
    }
  })

  it('malformed rids are refused with ERR_BAD_REQUEST and the server keeps serving', async () => {
    const bad = [
      '',
      'nocolon',
      'c:',
      ':5',
      'c:12a',
      'c:-1',
      `c:${'9'.repeat(21)}`,
      `${'c'.repeat(129)}:1`,
      5,
      null,
      ['a:1'],
    ]
    for (const rid of bad) {
      const r = await client.call('append', { name: 'log.txt', rid }, Buffer.from('bad\n'))
      expect(r.error?.code, JSON.stringify(rid)).toBe('ERR_BAD_REQUEST')
      const d = await client.call('delete', { name: 'log.txt', rid })
      expect(d.error?.code, JSON.stringify(rid)).toBe('ERR_BAD_REQUEST')
    }
    expect(disk('log.txt')).toBe('start\none\n')
    expect((await client.call('ping')).ok).toBe(true)
  })

  it('HTTP: an Idempotency-Key makes a replayed append land once with the same answer', async () => {
    const base = server.httpUrl!
    expectJson(
      await httpRequest(base, '/api/v1/files/web.txt', { method: 'PUT', body: 'w\n' }),
      201,
    )
    const send = () =>
      httpRequest(base, '/api/v1/append/web.txt', {
        method: 'POST',
        body: 'more\n',
        clientId: 'browser-1',
        headers: { 'Idempotency-Key': '"8e03978e-40d5-43e8-bc93-6894a57f9324"' },
      })
    const first = expectJson(await send())
    expect(expectJson(await send())).toEqual(first)
    expect(disk('web.txt')).toBe('w\nmore\n')
    // The same key from another client is another request.
    const otherClient = await httpRequest(base, '/api/v1/append/web.txt', {
      method: 'POST',
      body: 'more\n',
      clientId: 'browser-2',
      headers: { 'Idempotency-Key': '"8e03978e-40d5-43e8-bc93-6894a57f9324"' },
    })
    expectJson(otherClient)
    expect(disk('web.txt')).toBe('w\nmore\nmore\n')
    // PUT keeps its status: 201 when it created the file, on the replay too.
    const put = () =>
      httpRequest(base, '/api/v1/files/web-new.txt', {
        method: 'PUT',
        body: 'n',
        headers: { 'Idempotency-Key': 'k1' },
      })
    const created = expectJson(await put(), 201)
    expect(expectJson(await put(), 201)).toEqual(created)
    // A replayed DELETE answers as it did.
    const del = () =>
      httpRequest(base, '/api/v1/files/web-new.txt', {
        method: 'DELETE',
        headers: { 'Idempotency-Key': 'k2' },
      })
    const deleted = expectJson(await del())
    expect(expectJson(await del())).toEqual(deleted)
  })

  it('HTTP: a malformed Idempotency-Key is ERR_BAD_REQUEST (400) and nothing is stored', async () => {
    const base = server.httpUrl!
    for (const key of ['', 'has space', 'a:b', 'x'.repeat(129), '"unterminated']) {
      const reply = await httpRequest(base, '/api/v1/append/web.txt', {
        method: 'POST',
        body: 'bad\n',
        headers: { 'Idempotency-Key': key },
      })
      expectError(reply, 400, 'ERR_BAD_REQUEST')
    }
    expect(disk('web.txt')).toBe('w\nmore\nmore\n')
    expectJson(await httpRequest(base, '/heartbeat'))
  })

  it('a replay after a restart still answers the original result (tandem.db)', async () => {
    const r = await client.call(
      'append',
      { name: 'log.txt', rid: 'once-client:8' },
      Buffer.from('eight\n'),
    )
    expect(r.ok).toBe(true)
    await client.close()
    server = await server.restart()
    client = await TestClient.connect(server.port, { clientId: 'once-client' })
    expect(
      await client.call(
        'append',
        { name: 'log.txt', rid: 'once-client:8' },
        Buffer.from('eight\n'),
      ),
    ).toEqual(r)
    expect(disk('log.txt')).toBe('start\none\neight\n')
  })
})
