// Two servers each named the other's --primary (a symmetric configuration copied from --peer):
// a write at either must get a clear answer at once, not be forwarded round the loop, opening a
// new connection (and taking a client slot) at each hop until the slots run out. A forwarded
// request that comes back to a secondary it already passed is refused with ERR_PEER_UNREACHABLE
// saying so; reads keep working.
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import type { ClusterServer } from '../helpers/index.js'
import { newServer, TestClient, freePorts, showOutputOnFailure, waitFor } from '../helpers/index.js'

describe('roles: two servers named each other’s primary', () => {
  it('a write is refused with ERR_PEER_UNREACHABLE, not sent round the loop', async () => {
    const ports = await freePorts(4)
    const make = (name: string, i: number): ClusterServer => {
      const server = newServer({
        name,
        port: ports[i]!,
        syncPort: ports[2 + i]!,
        extraArgs: ['--primary', `127.0.0.1:${ports[1 - i]!}`, '--max-clients', '8'],
      })
      writeFileSync(path.join(server.root, 'here.txt'), `at ${name}\n`)
      return server
    }
    const a = make('A', 0)
    const b = make('B', 1)
    showOutputOnFailure([a, b])
    await Promise.all([a.start(), b.start()])
    const client = await TestClient.connect(a.port, { clientId: 'looper' })
    try {
      const reply = await client.append('x.txt', Buffer.from('one\n'))
      expect(reply.ok).toBe(false)
      expect(reply.error?.code).toBe('ERR_PEER_UNREACHABLE')
      expect(reply.error?.message).toMatch(/secondary/)
      // Reads keep working at both, and both still take new clients.
      const read = await waitFor(
        async () => {
          const r = await client.download('here.txt')
          return r.ok ? r : false
        },
        { what: 'a read at A' },
      )
      expect(read.ok).toBe(true)
      const other = await TestClient.connect(b.port, { clientId: 'reader' })
      await other.close()
    } finally {
      await client.close()
    }
  })

  it('a chain (A → B → C) still forwards to the end: the write is on C’s disk when answered', async () => {
    const ports = await freePorts(6)
    const make = (name: string, i: number, primary: number | null): ClusterServer =>
      newServer({
        name,
        port: ports[i]!,
        syncPort: ports[3 + i]!,
        extraArgs: primary === null ? [] : ['--primary', `127.0.0.1:${ports[primary]!}`],
      })
    const c = make('C', 2, null)
    const b = make('B', 1, 2)
    const a = make('A', 0, 1)
    showOutputOnFailure([a, b, c])
    await Promise.all([a.start(), b.start(), c.start()])
    const client = await TestClient.connect(a.port, { clientId: 'chained' })
    try {
      const reply = await client.create('x.txt', Buffer.from('one\n'))
      expect(reply.ok, reply.error?.message).toBe(true)
      expect(readFileSync(path.join(c.root, 'x.txt'), 'utf8')).toBe('one\n')
    } finally {
      await client.close()
    }
  })
})
