// At most nine clients at once: the tenth is refused at once with ERR_BUSY and a retry hint; when
// one leaves, the next is admitted.
import { beforeAll, describe, expect, it } from 'vitest'
import {
  rawConnect,
  startServer,
  TestClient,
  waitFor,
  type ServerHandle,
} from '../helpers/index.js'

describe('admission', () => {
  let server: ServerHandle
  beforeAll(async () => {
    server = await startServer()
  })

  it('refuses the tenth client with ERR_BUSY at once and admits the next when one leaves', async () => {
    const clients = await Promise.all(
      Array.from({ length: 9 }, (_, i) => TestClient.connect(server.port, { clientId: `c${i}` })),
    )
    const started = Date.now()
    const tenth = await TestClient.tryConnect(server.port, { clientId: 'tenth' })
    expect(tenth.error?.code).toBe('ERR_BUSY')
    expect(tenth.error?.retryAfterMs).toBeGreaterThan(0)
    // "At once": no waiting in a queue for a slot.
    expect(Date.now() - started).toBeLessThan(2_000)

    // The nine are still served.
    const pings = await Promise.all(clients.map((c) => c.call('ping')))
    expect(pings.every((p) => p.ok)).toBe(true)

    await clients[0]!.close()
    const admitted = await waitFor(
      async () => {
        const outcome = await TestClient.tryConnect(server.port, { clientId: 'next' })
        if (outcome.error && outcome.error.code !== 'ERR_BUSY')
          throw new Error(`unexpected ${outcome.error.code}`)
        return outcome.client
      },
      { timeoutMs: 10_000, intervalMs: 100, what: 'a slot after a client left' },
    )
    expect((await admitted.call('ping')).ok).toBe(true)

    // Nine again: the next one is refused again (refusals took no slot).
    expect((await TestClient.tryConnect(server.port)).error?.code).toBe('ERR_BUSY')
    const status = await admitted.status()
    expect(status.result?.clients).toMatchObject({ connected: 9, max: 9 })
    await Promise.all([admitted, ...clients.slice(1)].map((c) => c.close()))
  })

  it('a refused connection gets the protocol preamble, then its error, then is closed', async () => {
    const observer = await TestClient.connect(server.port)
    await waitFor(async () => (await observer.status()).result?.clients.connected === 1, {
      what: 'the first test to leave',
    })
    const others = await Promise.all(
      Array.from({ length: 8 }, () => TestClient.connect(server.port)),
    )
    const conn = await rawConnect(server.port)
    await conn.sendPreamble()
    await conn.sendControl({ type: 'hello', role: 'client', id: 'late' })
    await waitFor(() => conn.isClosed, { what: 'the refused connection to close' })
    expect(conn.frames[0]).toEqual({ kind: 'preamble', version: 1 })
    expect(conn.frames[1]).toMatchObject({
      kind: 'control',
      message: { type: 'error', error: { code: 'ERR_BUSY' } },
    })
    expect(conn.frames).toHaveLength(2)
    await Promise.all([observer, ...others].map((c) => c.close()))
  })

  it('honours --max-clients', async () => {
    const small = await startServer({ maxClients: 2 })
    const two = await Promise.all([TestClient.connect(small.port), TestClient.connect(small.port)])
    expect((await TestClient.tryConnect(small.port)).error?.code).toBe('ERR_BUSY')
    await Promise.all(two.map((c) => c.close()))
  })
})
