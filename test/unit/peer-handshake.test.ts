// The clock check at a peer handshake: against a control port that answers like a
// tandem server whose clock is ten seconds ahead, the handshake reports the skew (the link then
// warns on both consoles when it is over 2 s).
import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { FrameDecoder, Limits, encodeControl, encodePreamble } from '../../src/protocol/index.js'
import { handshake } from '../../src/server/sync/peer-handshake.js'

const servers: net.Server[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))))
})

/** A control port that welcomes a peer hello with `reply(hello)`. */
async function fakeControlPort(reply: (hello: unknown) => unknown): Promise<number> {
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined)
    socket.write(encodePreamble())
    const decoder = new FrameDecoder(
      {
        onControl: (m) => socket.end(encodeControl(reply(m))),
        onData: () => undefined,
        onEnd: () => undefined,
      },
      { expectPreamble: true, maxControl: Limits.maxRequestControl },
    )
    socket.on('data', (chunk: Buffer) => decoder.push(chunk))
  })
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return (server.address() as net.AddressInfo).port
}

describe('peer handshake', () => {
  it('says hello as a peer and learns the name, the file-exchange port and the clock skew', async () => {
    let hello: unknown
    const port = await fakeControlPort((m) => {
      hello = m
      return {
        type: 'welcome',
        server: { name: 'B', version: 'test' },
        sessionId: 's',
        sync: { port: 6001, time: Date.now() + 10_000 },
      }
    })
    const result = await handshake('127.0.0.1', port, 'A')
    expect(hello).toMatchObject({ type: 'hello', role: 'peer', id: 'A' })
    expect(result.name).toBe('B')
    expect(result.syncPort).toBe(6001)
    expect(result.skewMs).toBeGreaterThan(9_000)
    expect(result.skewMs).toBeLessThan(11_000)
  })

  it("says its --replicas and learns the peer's, its HTTP port and its capacity", async () => {
    let hello: unknown
    const port = await fakeControlPort((m) => {
      hello = m
      return {
        type: 'welcome',
        server: { name: 'B', version: 'test' },
        sessionId: 's',
        sync: { port: 6001, time: Date.now(), replicas: 2, http: 8080, capacity: 40 },
      }
    })
    const result = await handshake('127.0.0.1', port, 'A', null, 2)
    expect(hello).toMatchObject({ type: 'hello', role: 'peer', id: 'A', replicas: 2 })
    expect(result).toMatchObject({ name: 'B', replicas: 2, http: 8080, capacity: 40 })
  })

  it('a server that says none of them: a copy on every member, no HTTP, capacity 1', async () => {
    let hello: Record<string, unknown> = {}
    const port = await fakeControlPort((m) => {
      hello = m as Record<string, unknown>
      return {
        type: 'welcome',
        server: { name: 'B', version: 'test' },
        sessionId: 's',
        sync: { port: 6001, time: Date.now() },
      }
    })
    const result = await handshake('127.0.0.1', port, 'A')
    // Without --replicas the hello is as it always was.
    expect('replicas' in hello).toBe(false)
    expect(result).toMatchObject({ replicas: null, http: null, capacity: 1 })
  })

  it('refuses a peer that keeps another number of copies (ERR_REPLICAS_MISMATCH)', async () => {
    for (const [mine, theirs] of [
      [2, 3],
      [2, undefined],
      [null, 3],
    ] as const) {
      const port = await fakeControlPort(() => ({
        type: 'welcome',
        server: { name: 'B', version: 'test' },
        sessionId: 's',
        sync: {
          port: 6001,
          time: Date.now(),
          ...(theirs === undefined ? {} : { replicas: theirs }),
        },
      }))
      await expect(handshake('127.0.0.1', port, 'A', null, mine)).rejects.toMatchObject({
        code: 'ERR_REPLICAS_MISMATCH',
      })
    }
  })

  it('fails with the code a refusing server sends (ERR_BUSY)', async () => {
    const port = await fakeControlPort(() => ({
      type: 'error',
      error: { code: 'ERR_BUSY', message: 'full', retryAfterMs: 1000 },
    }))
    await expect(handshake('127.0.0.1', port, 'A')).rejects.toMatchObject({ code: 'ERR_BUSY' })
  })
})
