// Ctrl+C during a menu action stops it even while its connection's welcome is on its way: the
// connection made after the interrupt is closed and the action's request (here a delete) is never
// sent. A real server, paused (SIGSTOP) so that the hello waits.
import { existsSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Session } from '../../src/client/menu/session.js'
import { startServer, TestClient } from '../helpers/index.js'

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
      await new Promise((r) => setTimeout(r, 300)) // the hello is sent, no welcome yet
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
