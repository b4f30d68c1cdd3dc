// User locks over HTTP: one client id locks a file through POST /api/v1/locks/<name>; /check_file
// tells another client and the owner what they need (locked, owner, server, queued, yours);
// another client's write, append, delete or rename gets 423 ERR_LOCKED and the file is unchanged;
// the owner's write works; only the owner (or force) unlocks.
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  CLIENT_ID_HEADER,
  expectError,
  expectJson,
  get,
  httpRequest,
  rawRequest,
  startServer,
  TestClient,
  type ServerHandle,
} from '../helpers/index.js'

describe('HTTP: user locks', () => {
  let server: ServerHandle
  let base: string
  beforeAll(async () => {
    server = await startServer({ http: true })
    base = server.httpUrl!
  })
  const onDisk = (name: string) => readFileSync(path.join(server.root, name), 'utf8')
  // The JSON body is optional by the contract; sent here (its absence: a test of its own).
  const lock = (name: string, clientId: string) =>
    httpRequest(base, `/api/v1/locks/${name}`, { method: 'POST', clientId, json: {} })

  it('check_file: locked, owner, server, queued; yours for the owner only', async () => {
    await httpRequest(base, '/upload?name=plan.txt', { method: 'POST', body: 'plan v1' })
    const held = expectJson(await lock('plan.txt', 'alice'))
    expect(held).toMatchObject({
      name: 'plan.txt',
      server: 'A',
      owner: 'alice',
      expiresAt: null,
      queued: 0,
    })

    const forBob = expectJson(await get(base, '/check_file/plan.txt?ClientId=bob'))
    expect(forBob).toEqual({
      name: 'plan.txt',
      locked: true,
      owner: 'alice',
      server: 'A',
      since: held.since,
      expiresAt: null,
      queued: 0,
      yours: false,
    })
    const forAlice = expectJson(await get(base, '/check_file/plan.txt?ClientId=alice'))
    expect(forAlice).toMatchObject({ locked: true, owner: 'alice', yours: true })
    // The header names the client too, and wins over the query.
    const byHeader = expectJson(
      await get(base, '/check_file/plan.txt?ClientId=bob', {
        headers: { [CLIENT_ID_HEADER]: 'alice' },
      }),
    )
    expect(byHeader.yours).toBe(true)
    // The same through /api/v1/locks/<name>; and the listing shows the lock.
    expect(expectJson(await get(base, '/api/v1/locks/plan.txt?ClientId=bob'))).toEqual(forBob)
    const row = expectJson(await get(base, '/api/v1/stat/plan.txt'))
    expect(row.locked).toBe(true)
    expect(row.locks).toEqual([held])
  })

  it("another client's write, append, delete, rename: 423 ERR_LOCKED, the file unchanged", async () => {
    await httpRequest(base, '/upload?name=held.txt', { method: 'POST', body: 'held content' })
    expectJson(await lock('held.txt', 'owner-1'))
    const attempts: [string, string, Parameters<typeof httpRequest>[2]][] = [
      ['write', '/write/held.txt', { method: 'POST', body: 'x' }],
      ['append', '/append/held.txt', { method: 'POST', body: 'x' }],
      ['put', '/api/v1/files/held.txt', { method: 'PUT', body: 'x' }],
      ['upload', '/upload?name=held.txt', { method: 'POST', body: 'x' }],
      ['v1 append', '/api/v1/append/held.txt', { method: 'POST', body: 'x' }],
      ['delete', '/delete/held.txt', { method: 'DELETE' }],
      ['v1 delete', '/api/v1/files/held.txt', { method: 'DELETE' }],
      ['rename', '/rename/held.txt/moved.txt', { method: 'PUT' }],
      [
        'v1 rename',
        '/api/v1/rename',
        { method: 'POST', json: { from: 'held.txt', to: 'moved.txt' } },
      ],
    ]
    for (const who of ['intruder', undefined]) {
      for (const [label, url, options] of attempts) {
        const reply = await httpRequest(base, url, {
          ...options,
          ...(who ? { clientId: who } : {}),
        })
        expect(reply.status, `${label} by ${who ?? 'an anonymous client'}: ${reply.text}`).toBe(423)
        expect(expectError(reply, 423, 'ERR_LOCKED')).toContain('owner-1')
        expect(onDisk('held.txt')).toBe('held content')
        expect(existsSync(path.join(server.root, 'moved.txt'))).toBe(false)
      }
    }
    // Reads work.
    expect((await get(base, '/download/held.txt', { clientId: 'intruder' })).text).toBe(
      'held content',
    )
    // A binary client is refused the same way.
    const binary = await TestClient.connect(server.port, { clientId: 'intruder-bin' })
    expect((await binary.write('held.txt', Buffer.from('x'))).error?.code).toBe('ERR_LOCKED')
    await binary.close()
    expect(onDisk('held.txt')).toBe('held content')
  })

  it("the owner's write and append work (by header or by query); its rename is refused", async () => {
    await httpRequest(base, '/upload?name=mine.txt', { method: 'POST', body: 'mine' })
    expectJson(await lock('mine.txt', 'owner-2'))
    expectJson(
      await httpRequest(base, '/write/mine.txt', {
        method: 'POST',
        body: 'edited',
        clientId: 'owner-2',
      }),
    )
    expectJson(
      await httpRequest(base, '/append/mine.txt?ClientId=owner-2', { method: 'POST', body: '+1' }),
    )
    expect(onDisk('mine.txt')).toBe('edited+1')
    // Renaming a locked file is refused even for its owner (README, user locks).
    expectError(
      await httpRequest(base, '/rename/mine.txt/other.txt', { method: 'PUT', clientId: 'owner-2' }),
      423,
      'ERR_LOCKED',
    )
    expect(onDisk('mine.txt')).toBe('edited+1')
  })

  it('a second lock by another client: 423; unlock by another: 403 ERR_NOT_OWNER; force works', async () => {
    await httpRequest(base, '/upload?name=u.txt', { method: 'POST', body: 'u' })
    expectJson(await lock('u.txt', 'first'))
    expectError(await lock('u.txt', 'second'), 423, 'ERR_LOCKED')
    expectError(
      await httpRequest(base, '/api/v1/locks/u.txt', { method: 'DELETE', clientId: 'second' }),
      403,
      'ERR_NOT_OWNER',
    )
    expect(expectJson(await get(base, '/check_file/u.txt')).owner).toBe('first')
    const forced = await httpRequest(base, '/api/v1/locks/u.txt?force=true', {
      method: 'DELETE',
      clientId: 'second',
    })
    expect(expectJson(forced)).toMatchObject({ name: 'u.txt', owner: 'first', forced: true })
    expect(expectJson(await get(base, '/check_file/u.txt'))).toMatchObject({
      locked: false,
      owner: null,
    })
    // Unlocked: the other client writes again.
    expectJson(
      await httpRequest(base, '/write/u.txt', { method: 'POST', body: 'free', clientId: 'second' }),
    )
    expect(onDisk('u.txt')).toBe('free')
  })

  it('POST /api/v1/locks/<name> without a body (it is optional) locks', async () => {
    await httpRequest(base, '/upload?name=nobody.txt', { method: 'POST', body: 'x' })
    // As README's `curl -X POST -H 'X-Tandem-Client-Id: alice' $H/api/v1/locks/notes.txt`: no
    // body and no Content-Type (node:http sends it as an empty chunked body).
    const reply = await rawRequest(base, {
      method: 'POST',
      path: '/api/v1/locks/nobody.txt',
      headers: { [CLIENT_ID_HEADER]: 'bodiless' },
    })
    expect(reply.status, reply.text).toBe(200)
    expect(reply.json()).toMatchObject({ name: 'nobody.txt', owner: 'bodiless' })
    // And as fetch sends it (Content-Length: 0).
    await httpRequest(base, '/upload?name=nobody2.txt', { method: 'POST', body: 'x' })
    const viaFetch = await httpRequest(base, '/api/v1/locks/nobody2.txt', {
      method: 'POST',
      clientId: 'bodiless',
    })
    expect(expectJson(viaFetch)).toMatchObject({ name: 'nobody2.txt', owner: 'bodiless' })
  })

  it('a lock on a missing file: 404; the log has lock and unlock', async () => {
    expectError(await lock('absent.txt', 'alice'), 404, 'ERR_NOT_FOUND')
    const events = expectJson<{ op: string; name: string }[]>(await get(base, '/log?limit=10000'))
    const ops = events.filter((e) => e.name === 'u.txt').map((e) => e.op)
    expect(ops).toContain('lock')
    expect(ops).toContain('unlock')
  })
})
