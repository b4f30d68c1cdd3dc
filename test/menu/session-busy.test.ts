// The menu's connection waits for a busy server as the command line does, and Ctrl+C (the
// session's interrupt) ends the wait: a real server with --max-clients 1 and a real holder.
import { afterEach, describe, expect, it } from 'vitest'
import { connect, type Connection } from '../../src/client/connection.js'
import { Session } from '../../src/client/menu/session.js'
import { TandemError } from '../../src/protocol/index.js'
import { startServer, waitFor } from '../helpers/index.js'

const open: { close(): Promise<void> }[] = []
afterEach(async () => {
  for (const item of open.splice(0)) await item.close()
})

async function fullServer() {
  const server = await startServer({ name: 'Small', maxClients: 1 })
  const holder: Connection = await connect({
    host: server.host,
    port: server.port,
    clientId: 'holder',
  })
  open.push(holder)
  /** The server's console says each time it refuses a client. */
  const refusals = (): number => server.output().split('(ERR_BUSY)').length - 1
  return { address: server.address, holder, refusals }
}

describe('the menu session and a busy server', () => {
  it('waits for a free place and connects once the holder leaves', async () => {
    const { address, holder, refusals } = await fullServer()
    const session = new Session(address, 'menu-busy', 30)
    open.push(session)
    let settled = false
    const connecting = session.connection().finally(() => (settled = true))
    // Refused, and tried again after the server's hint: still waiting.
    await waitFor(() => refusals() >= 2, { what: 'a second refusal' })
    expect(settled).toBe(false)
    await holder.close()
    const conn = await connecting
    expect(conn.server.name).toBe('Small')
  })

  it('fails at once with ERR_BUSY with no wait, and an interrupt ends a wait', async () => {
    const { address, refusals } = await fullServer()
    const noWait = new Session(address, 'menu-busy', 0)
    open.push(noWait)
    await expect(noWait.connection()).rejects.toMatchObject({ code: 'ERR_BUSY' })
    const waiting = new Session(address, 'menu-busy', 30)
    open.push(waiting)
    const connecting = waiting.connection()
    const before = refusals()
    await waitFor(() => refusals() > before, { what: 'the waiting session to be refused' })
    waiting.interrupt()
    const err = await connecting.catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TandemError)
    expect((err as TandemError).code).toBe('ERR_INTERRUPTED')
  })
})
