// A connection takes a client slot only once its hello has arrived. Sockets that never say hello
// hold no slot and are closed with ERR_TIMEOUT after --hello-timeout-ms; meanwhile clients get in
// and a peer's handshake is welcomed. One address may hold only so many connections before their
// hello (the next gets ERR_BUSY at once), and all addresses together only so many.
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { encodeControl, encodePreamble, type ListResult } from '../../src/protocol/index.js'
import {
  rawConnect,
  runTandemJson,
  startCluster,
  startServer,
  tempDir,
  TestClient,
  waitFile,
  waitFor,
  type ListRow,
  type RawConnection,
} from '../helpers/index.js'

/** `n` sockets that connect and say nothing, each once the server has sent its preamble. */
async function silentSockets(port: number, n: number, from?: string): Promise<RawConnection[]> {
  const options = from === undefined ? {} : { localAddress: from }
  const conns = await Promise.all(
    Array.from({ length: n }, () => rawConnect(port, '127.0.0.1', options)),
  )
  await Promise.all(conns.map((conn) => conn.next()))
  return conns
}

/**
 * Nine clients, connected one after another: the silent sockets of this address already hold 12
 * of its 16 places before a hello, so nine handshakes at once would find no place.
 */
async function nineClients(port: number): Promise<TestClient[]> {
  const clients: TestClient[] = []
  for (let i = 0; i < 9; i++) clients.push(await TestClient.connect(port, { clientId: `c${i}` }))
  return clients
}

/** The code of the connection-level error the server sent, once it has closed the connection. */
async function closedWith(conn: RawConnection, timeoutMs = 15_000): Promise<string | undefined> {
  await waitFor(() => conn.isClosed, { timeoutMs, what: 'the server to close the connection' })
  const error = conn.frames.find((f) => f.kind === 'control' && f.message.type === 'error')
  return error?.kind === 'control' ? (error.message.error as { code: string }).code : undefined
}

/** A peer's handshake, by hand: what the server answers it. */
async function peerHello(port: number): Promise<Record<string, unknown>> {
  const conn = await rawConnect(port)
  await conn.send(encodePreamble(), encodeControl({ type: 'hello', role: 'peer', id: 'Z' }))
  return conn.nextControl()
}

describe('silent sockets on the control port', () => {
  it('twelve hold no client slot: ls works, nine clients get in, the tenth gets ERR_BUSY, a peer is welcomed', async () => {
    const server = await startServer({ extraArgs: ['--hello-timeout-ms', '60000'] })
    const silent = await silentSockets(server.port, 12)
    writeFileSync(path.join(server.root, 'seen.txt'), 'here\n')

    const rows = await runTandemJson<ListRow[]>(['--server', server.address, '--json', 'ls'])
    expect(rows.map((row) => row.name)).toEqual(['seen.txt'])

    const nine = await nineClients(server.port)
    const tenth = await TestClient.tryConnect(server.port, { clientId: 'tenth' })
    expect(tenth.error?.code).toBe('ERR_BUSY')
    expect(tenth.error?.retryAfterMs).toBeGreaterThan(0)
    expect((await nine[0]!.status()).result?.clients).toMatchObject({ connected: 9, max: 9 })

    const welcome = await peerHello(server.port)
    expect(welcome).toMatchObject({ type: 'welcome', sync: { port: expect.any(Number) } })

    // All of that while every silent socket was still open.
    expect(silent.filter((conn) => conn.isClosed)).toHaveLength(0)
    await Promise.all(nine.map((client) => client.close()))
  })

  it('closes a silent socket, and one that stopped halfway through its hello, with ERR_TIMEOUT', async () => {
    const server = await startServer({ extraArgs: ['--hello-timeout-ms', '1000'] })
    const started = Date.now()
    const [silent] = await silentSockets(server.port, 1)
    const half = await rawConnect(server.port)
    const hello = encodeControl({ type: 'hello', role: 'client', id: 'half' })
    await half.send(encodePreamble(), hello.subarray(0, hello.length - 2))
    const talker = await TestClient.connect(server.port, { clientId: 'talker' })

    expect(await closedWith(silent!)).toBe('ERR_TIMEOUT')
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
    expect(silent!.frames).toEqual([
      { kind: 'preamble', version: 1 },
      { kind: 'control', message: expect.objectContaining({ type: 'error' }) },
    ])
    expect(await closedWith(half)).toBe('ERR_TIMEOUT')
    // The hello deadline is not an idle timeout: a client that said hello stays.
    expect(talker.conn.isClosed).toBe(false)
    expect((await talker.call('ping')).ok).toBe(true)
    expect((await talker.status()).result?.clients.connected).toBe(1)
    await talker.close()
  })

  it('the hello deadline is 5 s unless told otherwise', async () => {
    const { resolveConfig } = await import('../../src/server/config.js')
    expect(resolveConfig({}).helloTimeoutMs).toBe(5_000)
    const file = path.join(tempDir(), 'tandem.json')
    writeFileSync(file, JSON.stringify({ helloTimeoutMs: 1_000, maxPreHelloPerAddress: 2 }))
    const server = await startServer({ extraArgs: ['--config', file] })
    const [first, second] = await silentSockets(server.port, 2)
    const third = await rawConnect(server.port)
    expect(await closedWith(third)).toBe('ERR_BUSY')
    expect(await closedWith(first!)).toBe('ERR_TIMEOUT')
    expect(await closedWith(second!)).toBe('ERR_TIMEOUT')
  })

  it('one address holds at most 16 connections before their hello; the next gets ERR_BUSY at once', async () => {
    const helloMs = 1_500
    const server = await startServer({ extraArgs: ['--hello-timeout-ms', String(helloMs)] })
    const opened = Date.now()
    const silent = await silentSockets(server.port, 16, '127.0.0.2')
    const over = await TestClient.tryConnect(server.port, { localAddress: '127.0.0.2' })
    expect(over.error?.code).toBe('ERR_BUSY')
    expect(over.error?.retryAfterMs).toBeGreaterThan(0)
    expect(silent.filter((conn) => conn.isClosed)).toHaveLength(0)

    // Another address is not held up.
    const other = await TestClient.connect(server.port, { clientId: 'other' })
    expect((await other.list()).ok).toBe(true)

    // Once the silent ones are closed, the address gets in again: within the deadline + 2 s.
    const back = await waitFor(
      async () => {
        const outcome = await TestClient.tryConnect(server.port, { localAddress: '127.0.0.2' })
        if (outcome.error && outcome.error.code !== 'ERR_BUSY') throw new Error(outcome.error.code)
        return outcome.client
      },
      { timeoutMs: helloMs + 2_000 - (Date.now() - opened), what: '127.0.0.2 admitted again' },
    )
    expect(((await back.list()).result as ListResult).files).toEqual([])
    // Each place is freed as its socket closes: the others close about then (under load, a
    // moment later on this side).
    await waitFor(() => silent.every((conn) => conn.isClosed), {
      timeoutMs: 5_000,
      what: 'every silent socket closed',
    })
    await Promise.all([back, other].map((client) => client.close()))
  })

  it('all addresses together hold at most --max-pre-hello connections before their hello', async () => {
    const server = await startServer({ extraArgs: ['--max-pre-hello', '4'] })
    await silentSockets(server.port, 2, '127.0.0.2')
    await silentSockets(server.port, 2, '127.0.0.3')
    const over = await rawConnect(server.port, '127.0.0.1', { localAddress: '127.0.0.4' })
    expect(await closedWith(over)).toBe('ERR_BUSY')
  })

  it('SIGTERM answers a connection that has not said hello with ERR_SHUTTING_DOWN', async () => {
    const server = await startServer()
    const [silent] = await silentSockets(server.port, 1)
    expect(await server.stop('SIGTERM')).toBe(0)
    expect(await closedWith(silent!)).toBe('ERR_SHUTTING_DOWN')
  })

  it('a peer restarting while twelve sockets are silent and every client slot is taken reconnects', async () => {
    const [a, b] = await startCluster(2, { extraArgs: ['--hello-timeout-ms', '60000'] })
    const silent = await silentSockets(a.port, 12)
    const nine = await nineClients(a.port)
    await b.kill9()
    await b.start()
    // B's handshake is on A's control port, past the silent sockets and the nine clients.
    await waitFor(
      async () => {
        const status = await b.status()
        return status.peers.some((peer) => peer.name === 'A' && peer.up)
      },
      { timeoutMs: 20_000, intervalMs: 100, what: 'B to see A up' },
    )
    await waitFor(
      async () => (await nine[0]!.status()).result?.peers.some((p) => p.name === 'B' && p.up),
      { timeoutMs: 20_000, intervalMs: 100, what: 'A to see B up' },
    )
    await a.write('from-a.txt', 'made on A\n')
    await waitFile([b], 'from-a.txt', 'made on A\n', 15_000)
    await b.write('from-b.txt', 'made on B\n')
    await waitFile([a], 'from-b.txt', 'made on B\n', 15_000)
    expect(silent.filter((conn) => conn.isClosed)).toHaveLength(0)
    await Promise.all(nine.map((client) => client.close()))
  })
})
