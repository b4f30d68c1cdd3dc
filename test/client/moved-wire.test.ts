// ERR_MOVED over real sockets (the hand-made server): its `holders` cross the wire, and the CLI's
// pool and the menu's session each do the same work at the holder — a download, an append with
// the same request id — while staying connected to the server they chose.
import { PassThrough } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { Session } from '../../src/client/menu/session.js'
import { ServerPool } from '../../src/client/server-pool.js'
import type { WireError } from '../../src/protocol/index.js'
import { startFakeServer, type FakeServer, type FakeServerOptions } from './fake-server.js'

const servers: FakeServer[] = []
const closers: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const close of closers.splice(0)) await close()
  for (const server of servers.splice(0)) await server.close().catch(() => undefined)
})

async function fake(options: FakeServerOptions = {}): Promise<FakeServer> {
  const server = await startFakeServer(options)
  servers.push(server)
  return server
}

function moved(holder: FakeServer): WireError {
  return {
    code: 'ERR_MOVED',
    message: "'far.txt' is not held at A: it is at B",
    holders: [{ name: 'B', address: `127.0.0.1:${holder.port}` }],
  }
}

const requests = (server: FakeServer, op: string) =>
  server.received.flatMap((r) => (r.kind === 'control' && r.message.op === op ? [r.message] : []))

describe('ERR_MOVED over the wire', () => {
  it('the pool downloads from the holder named in the answer, and stays on its server', async () => {
    const b = await fake()
    b.files.set('far.txt', Buffer.from('held at B\n'))
    const a = await fake({ failOps: { download: moved(b) } })
    const pool = new ServerPool([{ host: '127.0.0.1', port: a.port }], { clientId: 'wire' })
    closers.push(() => pool.close())
    const sink = new PassThrough()
    const chunks: Buffer[] = []
    sink.on('data', (c: Buffer) => chunks.push(c))
    const result = await pool.run((conn) => conn.download('far.txt', sink))
    expect(result.size).toBe(10)
    expect(Buffer.concat(chunks).toString()).toBe('held at B\n')
    expect(pool.current?.address).toBe(`127.0.0.1:${a.port}`)
    expect(requests(a, 'download')).toHaveLength(1)
    expect(requests(b, 'download')).toHaveLength(1)
  })

  it("the menu's session appends at the holder with the same request id", async () => {
    const b = await fake()
    b.files.set('far.txt', Buffer.from('a\n'))
    const a = await fake({ failOps: { append: moved(b) } })
    const session = new Session(`127.0.0.1:${a.port}`, 'menu-wire', 0)
    closers.push(() => session.close())
    const result = await session.run((conn, rid) =>
      conn.append('far.txt', Buffer.from('b\n'), { rid }),
    )
    expect(result.size).toBe(4)
    expect(b.files.get('far.txt')?.toString()).toBe('a\nb\n')
    const [atA] = requests(a, 'append')
    const [atB] = requests(b, 'append')
    expect(atA?.rid).toBeDefined()
    expect(atB?.rid).toBe(atA?.rid)
    expect(session.address).toBe(`127.0.0.1:${a.port}`)
  })
})
