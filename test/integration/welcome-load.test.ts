// The welcome tells a client how busy the server is: `load: { clients, maxClients }`, its own slot
// included (a client that knows several servers picks the least loaded). A real server, the
// client's own connection.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, type Connection } from '../../src/client/connection.js'
import { startServer, waitFor, type ServerHandle } from '../helpers/index.js'

let server: ServerHandle

beforeAll(async () => {
  server = await startServer({ maxClients: 4 })
}, 30_000)

afterAll(async () => {
  await server?.stop()
})

describe('the welcome to a client', () => {
  it('says how many clients the server serves, this one included, and its maximum', async () => {
    const open: Connection[] = []
    try {
      for (let i = 1; i <= 3; i++) {
        const conn = await connect({ host: '127.0.0.1', port: server.port, clientId: `load-${i}` })
        open.push(conn)
        expect(conn.load).toEqual({ clients: i, maxClients: 4 })
      }
      await open.pop()!.close()
      // The slot is given back when the server has seen the close.
      await waitFor(
        async () => {
          const conn = await connect({ host: '127.0.0.1', port: server.port, clientId: 'load-x' })
          const clients = conn.load?.clients
          await conn.close()
          return clients === 3
        },
        { what: 'a freed slot to show in the load' },
      )
    } finally {
      await Promise.all(open.map((conn) => conn.close()))
    }
  })
})
