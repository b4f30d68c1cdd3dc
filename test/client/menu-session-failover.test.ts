// The menu's Session fails over like the command line: an action whose server is lost under it
// runs once more on the next server, with the same request id; with one server it does not.
import { afterEach, describe, expect, it } from 'vitest'
import { Session } from '../../src/client/menu/session.js'
import { startFakeServer, type FakeServer, type FakeServerOptions } from './fake-server.js'

const servers: FakeServer[] = []
const sessions: Session[] = []

afterEach(async () => {
  for (const session of sessions.splice(0)) await session.close()
  for (const server of servers.splice(0)) await server.close().catch(() => undefined)
})

async function fake(options: FakeServerOptions = {}): Promise<FakeServer> {
  const server = await startFakeServer(options)
  servers.push(server)
  return server
}

function session(...ports: number[]): Session {
  const s = new Session(ports.map((p) => `127.0.0.1:${p}`).join(','), 'menu-client', 0)
  sessions.push(s)
  return s
}

const appends = (server: FakeServer) =>
  server.received.flatMap((r) =>
    r.kind === 'control' && r.message.op === 'append' ? [r.message] : [],
  )

describe('menu session failover', () => {
  it('an append lost between request and answer is replayed at the next server with the same rid', async () => {
    const a = await fake({ dropOn: { ops: ['append'] } })
    const b = await fake()
    const s = session(a.port, b.port)
    const result = await s.run((conn, rid) => conn.append('n.txt', Buffer.from('line\n'), { rid }))
    expect(result.size).toBe(5)
    expect(s.address).toBe(`127.0.0.1:${b.port}`)
    expect(appends(b)[0]?.rid).toBe(appends(a)[0]?.rid)
    expect(b.files.get('n.txt')?.toString()).toBe('line\n')
  })

  it('one server: the loss is the error', async () => {
    const a = await fake({ dropOn: { ops: ['append'] } })
    const s = session(a.port)
    await expect(
      s.run((conn, rid) => conn.append('n.txt', Buffer.from('x'), { rid })),
    ).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED' })
  })
})
