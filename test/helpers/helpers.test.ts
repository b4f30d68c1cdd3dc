// Self-tests of the helpers, against a tiny in-process stand-in server (not the real one).
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  encodeControl,
  encodeData,
  encodeEnd,
  encodePreamble,
  FrameDecoder,
  Limits,
} from '../../src/protocol/index.js'
import { registerCleanup } from './cleanup.js'
import { rawConnect } from './raw-socket.js'
import { tempDir } from './temp-dir.js'
import { TestClient } from './test-client.js'
import { waitFor } from './wait-for.js'

/** Answers hello with welcome, ping with ok, download with a 600 KB body, anything else with an error. */
function standIn(socket: net.Socket): void {
  const body = Buffer.alloc(600_000, 'x')
  let pendingBody = 0
  const decoder = new FrameDecoder(
    {
      onPreamble: () => socket.write(encodePreamble()),
      onControl: (raw) => {
        const message = raw as { type?: string; id?: number; op?: string }
        if (message.type === 'hello')
          return void socket.write(
            encodeControl({
              type: 'welcome',
              server: { name: 'S', version: '0' },
              sessionId: 's1',
            }),
          )
        if (message.op === 'upload') return void (pendingBody = message.id ?? 0)
        if (message.op === 'ping')
          return void socket.write(
            encodeControl({ type: 'response', id: message.id, ok: true, result: {} }),
          )
        if (message.op === 'download') {
          socket.write(
            encodeControl({
              type: 'response',
              id: message.id,
              ok: true,
              result: { name: 'x', size: body.length, mtime: 0 },
            }),
          )
          for (let o = 0; o < body.length; o += Limits.dataChunk)
            socket.write(Buffer.concat(encodeData(body.subarray(o, o + Limits.dataChunk))))
          return void socket.write(encodeEnd(createHash('sha256').update(body).digest()))
        }
        socket.write(
          encodeControl({
            type: 'response',
            id: message.id,
            ok: false,
            error: { code: 'ERR_UNKNOWN_OPERATION', message: 'no' },
          }),
        )
      },
      onData: () => undefined,
      onEnd: () =>
        void socket.write(
          encodeControl({ type: 'response', id: pendingBody, ok: true, result: { name: 'u' } }),
        ),
    },
    { expectPreamble: true, maxControl: Limits.maxRequestControl },
  )
  socket.on('data', (chunk: Buffer) => {
    try {
      decoder.push(chunk)
    } catch {
      socket.destroy()
    }
  })
  socket.on('error', () => undefined)
}

describe('test helpers', () => {
  let server: net.Server
  let port: number
  beforeAll(async () => {
    server = net.createServer(standIn)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as net.AddressInfo).port
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  it('TestClient pipelines requests, sends bodies and checks downloads', async () => {
    const client = await TestClient.connect(port)
    const [ping, upload, download, unknown] = await Promise.all([
      client.call('ping'),
      client.upload('u', Buffer.alloc(700_000, 1)),
      client.download('x'),
      client.call('nope'),
    ])
    expect(ping.ok).toBe(true)
    expect(upload.result).toEqual({ name: 'u' })
    expect(download.body?.length).toBe(600_000)
    expect(download.bodyIntact).toBe(true)
    expect(unknown.error?.code).toBe('ERR_UNKNOWN_OPERATION')
    await client.close()
  })

  it('rawConnect sees the server close', async () => {
    const conn = await rawConnect(port)
    await conn.send(Buffer.from('garbage!'))
    conn.destroy()
    await conn.closed
    expect(conn.isClosed).toBe(true)
  })

  it('waitFor returns the value, and throws after its deadline', async () => {
    let n = 0
    expect(await waitFor(() => ++n >= 3 && n)).toBe(3)
    await expect(waitFor(() => false, { timeoutMs: 50, what: 'never' })).rejects.toThrow(/never/)
  })

  let kept: string | undefined
  it('tempDir is removed when its test finishes', () => {
    kept = tempDir()
    registerCleanup(() => undefined)
    expect(existsSync(kept)).toBe(true)
  })
  it('(checks the previous test)', () => {
    expect(kept && existsSync(kept)).toBe(false)
  })
})
