// Each operation against a real server, with its success shape and its error codes.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { encodeData, encodeEnd } from '../../src/protocol/index.js'
import { startServer, TestClient, waitFor, type ServerHandle } from '../helpers/index.js'

describe('operations', () => {
  let server: ServerHandle
  let client: TestClient
  beforeAll(async () => {
    server = await startServer()
    client = await TestClient.connect(server.port)
  })

  it('upload then download returns the same bytes, and the disk holds them', async () => {
    const body = Buffer.from('hello tandem\n')
    const up = await client.upload('hello.txt', body)
    expect(up.ok).toBe(true)
    expect(up.result).toMatchObject({ name: 'hello.txt', size: body.length })
    const down = await client.download('hello.txt')
    expect(down.ok).toBe(true)
    expect(down.body).toEqual(body)
    expect(down.bodyIntact).toBe(true)
    expect(readFileSync(path.join(server.root, 'hello.txt'))).toEqual(body)
  })

  it('upload creates sub-folders; list shows files sorted with indices and no folders', async () => {
    expect((await client.upload('reports/2026/q1.txt', Buffer.from('q1'))).ok).toBe(true)
    expect((await client.upload('reports/2026/a.txt', Buffer.from('a'))).ok).toBe(true)
    const list = await client.list()
    const names = list.result!.files.map((f) => f.name)
    expect(names).toEqual([...names].sort())
    expect(names).toContain('reports/2026/q1.txt')
    expect(names).not.toContain('reports')
    expect(list.result!.files.map((f) => (f as { index?: number }).index)).toEqual(
      names.map((_, i) => i),
    )
  })

  it('an empty file round-trips', async () => {
    expect((await client.upload('empty.txt', Buffer.alloc(0))).ok).toBe(true)
    const down = await client.download('empty.txt')
    expect(down.body).toEqual(Buffer.alloc(0))
    expect(down.bodyIntact).toBe(true)
  })

  it('create refuses an existing name with ERR_EXISTS and keeps the old content', async () => {
    expect((await client.create('c.txt', Buffer.from('one'))).ok).toBe(true)
    const again = await client.create('c.txt', Buffer.from('two'))
    expect(again.error?.code).toBe('ERR_EXISTS')
    expect(readFileSync(path.join(server.root, 'c.txt'), 'utf8')).toBe('one')
  })

  it('write replaces, append adds, both refuse a missing file with ERR_NOT_FOUND', async () => {
    expect((await client.upload('w.txt', Buffer.from('old'))).ok).toBe(true)
    expect((await client.write('w.txt', Buffer.from('new'))).ok).toBe(true)
    expect((await client.append('w.txt', Buffer.from('+more'))).ok).toBe(true)
    expect(readFileSync(path.join(server.root, 'w.txt'), 'utf8')).toBe('new+more')
    expect((await client.write('missing.txt', Buffer.from('x'))).error?.code).toBe('ERR_NOT_FOUND')
    expect((await client.append('missing.txt', Buffer.from('x'))).error?.code).toBe('ERR_NOT_FOUND')
    expect(existsSync(path.join(server.root, 'missing.txt'))).toBe(false)
  })

  it('rename moves; refuses a missing source (ERR_NOT_FOUND) and an existing target (ERR_EXISTS)', async () => {
    expect((await client.upload('r1.txt', Buffer.from('r1'))).ok).toBe(true)
    expect((await client.upload('r2.txt', Buffer.from('r2'))).ok).toBe(true)
    expect((await client.rename('r1.txt', 'moved/r1.txt')).ok).toBe(true)
    expect(readFileSync(path.join(server.root, 'moved/r1.txt'), 'utf8')).toBe('r1')
    expect(existsSync(path.join(server.root, 'r1.txt'))).toBe(false)
    expect((await client.rename('r1.txt', 'x.txt')).error?.code).toBe('ERR_NOT_FOUND')
    expect((await client.rename('moved/r1.txt', 'r2.txt')).error?.code).toBe('ERR_EXISTS')
    expect(readFileSync(path.join(server.root, 'r2.txt'), 'utf8')).toBe('r2')
  })

  it('delete removes; a second delete, stat and download of it give ERR_NOT_FOUND', async () => {
    expect((await client.upload('d.txt', Buffer.from('d'))).ok).toBe(true)
    expect((await client.delete('d.txt')).ok).toBe(true)
    expect(existsSync(path.join(server.root, 'd.txt'))).toBe(false)
    expect((await client.delete('d.txt')).error?.code).toBe('ERR_NOT_FOUND')
    expect((await client.stat('d.txt')).error?.code).toBe('ERR_NOT_FOUND')
    expect((await client.download('d.txt')).error?.code).toBe('ERR_NOT_FOUND')
  })

  it('stat gives the row of a file', async () => {
    writeFileSync(path.join(server.root, 'native.txt'), 'made by another program')
    const stat = await client.stat('native.txt')
    expect(stat.result).toMatchObject({ name: 'native.txt', size: 23 })
  })

  it('a body with the wrong SHA-256 is refused with ERR_INTEGRITY and changes nothing', async () => {
    expect((await client.upload('i.txt', Buffer.from('good'))).ok).toBe(true)
    const answer = await client.call(
      'upload',
      { name: 'i.txt' },
      { raw: [...encodeData(Buffer.from('evil')), encodeEnd(Buffer.alloc(32))] },
    )
    expect(answer.error?.code).toBe('ERR_INTEGRITY')
    expect(readFileSync(path.join(server.root, 'i.txt'), 'utf8')).toBe('good')
  })

  it('an announced size that differs is refused with ERR_INTEGRITY', async () => {
    const reply = await client.upload('s.txt', Buffer.from('four'), { size: 5 })
    expect(reply.error?.code).toBe('ERR_INTEGRITY')
    expect(existsSync(path.join(server.root, 's.txt'))).toBe(false)
  })

  it('pipelined requests are answered in order', async () => {
    const replies = await Promise.all([
      client.upload('p.txt', Buffer.from('1')),
      client.append('p.txt', Buffer.from('2')),
      client.download('p.txt'),
      client.delete('p.txt'),
      client.stat('p.txt'),
    ])
    expect(replies.map((r) => r.ok)).toEqual([true, true, true, true, false])
    expect(replies[2]!.body?.toString()).toBe('12')
  })

  it('the change log records operations with server and client', async () => {
    expect((await client.upload('logged.txt', Buffer.from('x'))).ok).toBe(true)
    const log = await client.log({ limit: 10 })
    const entry = log.result!.entries.find((e) => e.name === 'logged.txt' && e.op === 'upload')
    expect(entry).toMatchObject({ server: 'A' })
    expect(entry?.client).toBeTruthy()
  })

  it('log with follow pushes new entries as events', async () => {
    const follower = await TestClient.connect(server.port, { clientId: 'follower' })
    expect((await follower.log({ limit: 1, follow: true })).ok).toBe(true)
    expect((await client.upload('followed.txt', Buffer.from('x'))).ok).toBe(true)
    await waitFor(() => follower.events.some((e) => e.name === 'followed.txt'), {
      what: 'the event',
    })
    await follower.close()
  })
})
