// The HTTP front end's bounds on connections: at most --max-http-connections open at once (more
// are closed at once, and a place frees when one closes), and a connection idle for
// --idle-timeout-ms is closed.
import { existsSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  deadline,
  expectJson,
  get,
  registerCleanup,
  startRequest,
  startServer,
  tempFilesIn,
  waitFor,
} from '../helpers/index.js'

function open(base: string): {
  socket: net.Socket
  connected: Promise<void>
  closed: Promise<void>
} {
  const url = new URL(base)
  const socket = net.connect({ host: url.hostname, port: Number(url.port) })
  registerCleanup(() => void socket.destroy())
  socket.on('error', () => {})
  socket.on('data', () => {})
  const connected = new Promise<void>((resolve) => socket.once('connect', () => resolve()))
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  return { socket, connected, closed }
}

describe('HTTP: connection bounds', () => {
  it('--max-http-connections: one more is closed at once; a freed place is taken again', async () => {
    const max = 12
    const server = await startServer({
      http: true,
      extraArgs: ['--max-http-connections', String(max)],
    })
    const base = server.httpUrl!
    // Idle connections, each with half a request line (so none is answered and closed).
    const held = Array.from({ length: max }, () => open(base))
    await Promise.all(held.map((c) => c.connected))
    for (const c of held) c.socket.write('GET /heartbeat HTTP/1.1\r\n')
    // The server has them all: one more is closed without an answer.
    await waitFor(
      async () => {
        const extra = open(base)
        await deadline(extra.closed, 3_000, 'the connection over the bound to be closed')
        return true
      },
      { timeoutMs: 10_000, what: 'a connection over the bound to be closed at once' },
    )
    expect(held.filter((c) => c.socket.destroyed)).toEqual([])
    // One of the held ones finishes its request and is answered: they were open, not dropped.
    held[0]!.socket.write('Host: 127.0.0.1\r\nConnection: close\r\n\r\n')
    await deadline(held[0]!.closed, 5_000, 'the completed request to be answered and closed')
    // Its place is free again: a normal request gets in.
    const reply = await waitFor(
      async () => {
        const r = await get(base, '/heartbeat', { timeoutMs: 3_000 })
        return r.status === 200 && r
      },
      { timeoutMs: 10_000, what: 'the freed place' },
    )
    expect(expectJson(reply).ok).toBe(true)
    for (const c of held) c.socket.destroy()
  })

  it('--idle-timeout-ms: a stalled upload is closed, leaves nothing, and frees its slot', async () => {
    const idleMs = 3_000 // long enough for a loaded machine to see the slot held first
    const server = await startServer({
      http: true,
      maxClients: 1,
      extraArgs: ['--idle-timeout-ms', String(idleMs)],
    })
    const base = server.httpUrl!
    const upload = startRequest(base, {
      method: 'POST',
      path: '/upload?name=stalled.bin',
      headers: { 'content-type': 'application/octet-stream', 'content-length': 1024 * 1024 },
    })
    await upload.write(Buffer.alloc(64 * 1024, 0x73))
    // Its client holds the only slot while the request is in flight.
    await waitFor(async () => (await get(base, '/list', { clientId: 'other' })).status === 503, {
      what: 'the stalled upload to hold the one slot',
    })
    const started = Date.now()
    // Then nothing moves: closed after the idle timeout (margins for a loaded machine).
    await deadline(
      upload.response.then(
        () => 'answered',
        () => 'closed',
      ),
      idleMs + 5_000,
      'the stalled upload to be closed',
    )
    expect(Date.now() - started).toBeGreaterThanOrEqual(idleMs - 500)
    await waitFor(() => tempFilesIn(server.root).length === 0, {
      timeoutMs: 5_000,
      what: 'its temp file removed',
    })
    expect(existsSync(path.join(server.root, 'stalled.bin'))).toBe(false)
    await waitFor(async () => (await get(base, '/list', { clientId: 'other' })).status === 200, {
      timeoutMs: 5_000,
      what: 'the slot to be free',
    })
  })

  it('--idle-timeout-ms: an idle keep-alive connection is closed', async () => {
    const idleMs = 1_500
    const server = await startServer({
      http: true,
      extraArgs: ['--idle-timeout-ms', String(idleMs)],
    })
    const conn = open(server.httpUrl!)
    await conn.connected
    // A complete keep-alive request, answered; then nothing.
    conn.socket.write('GET /heartbeat HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
    const started = Date.now()
    await deadline(conn.closed, 15_000, 'the idle connection to be closed')
    const heldMs = Date.now() - started
    expect(heldMs).toBeGreaterThanOrEqual(idleMs - 500)
    // Closed once idle this long (a margin for the server's periodic check and a loaded machine).
    expect(heldMs, `closed after ${heldMs} ms`).toBeLessThan(idleMs + 3_000)
  })
})
