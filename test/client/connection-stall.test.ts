// The connection's stall watch: a server that moves no byte while an answer is due is taken for
// lost (ERR_TIMEOUT, connection closed); the client's own slow disk (the socket paused by this
// side) is not the server's stall.
import { Writable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { connect } from '../../src/client/connection.js'
import { startFakeServer, type FakeServer, type FakeServerOptions } from './fake-server.js'

const servers: FakeServer[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close().catch(() => undefined)
})

async function serverWith(content: Buffer, options: FakeServerOptions = {}): Promise<FakeServer> {
  const server = await startFakeServer(options)
  servers.push(server)
  server.files.set('f.bin', content)
  return server
}

describe('stall watch', () => {
  it('a download stalled mid-body fails with ERR_TIMEOUT and closes the connection', async () => {
    const server = await serverWith(Buffer.alloc(1024 * 1024, 1), { stallDownloadAfter: 4096 })
    const conn = await connect({
      host: '127.0.0.1',
      port: server.port,
      clientId: 'stall',
      stallTimeoutMs: 200,
    })
    const sink = new Writable({ write: (_c, _e, done) => done() })
    await expect(conn.download('f.bin', sink)).rejects.toMatchObject({
      code: 'ERR_TIMEOUT',
      message: `no answer from 127.0.0.1:${server.port} in 0.2 s`,
    })
    expect(conn.isClosed).toBe(true)
    expect(conn.closedByClient).toBe(false)
  })

  it('a slow sink (the socket paused by this side) is not a stall', async () => {
    const content = Buffer.alloc(2 * 1024 * 1024, 2)
    const server = await serverWith(content)
    const conn = await connect({
      host: '127.0.0.1',
      port: server.port,
      clientId: 'stall',
      stallTimeoutMs: 100,
    })
    let received = 0
    // Full after every write, and each write takes longer than the stall timeout.
    const sink = new Writable({
      highWaterMark: 1,
      write: (chunk: Buffer, _e, done) => {
        received += chunk.length
        setTimeout(done, 150)
      },
    })
    const result = await conn.download('f.bin', sink)
    expect(result.size).toBe(content.length)
    expect(received).toBe(content.length)
    await conn.close()
  })
})
