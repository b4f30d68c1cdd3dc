// Ctrl+C during a menu action stops it even while its connection's welcome is on its way: the
// connection made after the interrupt is closed and the action's request (here a delete) is never
// sent. A real server, paused (SIGSTOP) so that the hello waits.
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Session } from '../../src/client/menu/session.js'
import { startServer, TestClient, waitFor } from '../helpers/index.js'

/** Established TCP connections to `port` on 127.0.0.1 (the kernel's table, Linux). */
function connectionsTo(port: number): number {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[2]?.endsWith(hex) && fields[3] === '01').length
}

const open: { close(): Promise<void> }[] = []
afterEach(async () => {
  for (const item of open.splice(0)) await item.close()
})

describe('review2 i11: the menu session and Ctrl+C while it connects', () => {
  it('an interrupt that comes before the welcome stops the action', async () => {
    const server = await startServer({ name: 'Paused' })
    const setup = await TestClient.connect(server.port, { clientId: 'setup' })
    expect((await setup.create('x.txt', Buffer.from('keep me\n'))).ok).toBe(true)
    await setup.close()

    const session = new Session(server.address, 'menu-int', 30)
    open.push(session)
    const pid = server.proc.pid!
    process.kill(pid, 'SIGSTOP')
    let result: unknown
    try {
      const deleting = session
        .run((conn) => conn.delete('x.txt'))
        .then(
          (value) => ({ ok: true, value }),
          (err: unknown) => ({ ok: false, code: (err as { code?: string }).code }),
        )
      // The kernel completes the connection of a stopped server: open, and no welcome yet.
      await waitFor(() => connectionsTo(server.port) > 0, { what: "the menu's connection" })
      session.interrupt() // Ctrl+C
      process.kill(pid, 'SIGCONT')
      result = await deleting
    } finally {
      process.kill(pid, 'SIGCONT')
    }
    expect({ result, stillThere: existsSync(path.join(server.root, 'x.txt')) }).toEqual({
      result: { ok: false, code: 'ERR_INTERRUPTED' },
      stillThere: true,
    })
  })
})
