// The connection against a hand-made server on a real socket: handshake outcomes, pipelining,
// body framing (chunk sizes, hashes, no interleaving), download checks and backpressure, and what
// pending requests see when the socket ends.
import { randomBytes } from 'node:crypto'
import { Readable, Writable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { connect } from '../../src/client/connection.js'
import { Limits, PROTOCOL_VERSION, TandemError } from '../../src/protocol/index.js'
import { codeOf, fakeServerFixture } from './fake-server.js'

const fake = fakeServerFixture('test-client')
afterEach(() => fake.teardown())
const setup = fake.setup

/** A Writable that collects what it gets, slowly, to exercise backpressure. */
function slowSink(delayMs: number): { sink: Writable; chunks: Buffer[] } {
  const chunks: Buffer[] = []
  const sink = new Writable({
    highWaterMark: 16 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(Buffer.from(chunk))
      setTimeout(callback, delayMs)
    },
  })
  return { sink, chunks }
}

describe('handshake', () => {
  it('sends a hello with the client id and reads the welcome', async () => {
    const c = await setup()
    expect(c.server.name).toBe('F')
    expect(c.sessionId).toBe('s1')
    expect(fake.server!.received[0]).toEqual({
      kind: 'control',
      message: { type: 'hello', role: 'client', id: 'test-client', software: 'tandem-client' },
    })
  })

  it('names both versions when the server speaks another protocol version', async () => {
    const server = await fake.start({ version: PROTOCOL_VERSION + 1 })
    const error = await connect({ host: '127.0.0.1', port: server.port, clientId: 'x' }).catch(
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(TandemError)
    expect((error as TandemError).code).toBe('ERR_UNSUPPORTED_VERSION')
    expect((error as TandemError).message).toContain(String(PROTOCOL_VERSION + 1))
  })

  it('rejects with the server error and keeps retryAfterMs for ERR_BUSY', async () => {
    const server = await fake.start({
      refuseWith: { code: 'ERR_BUSY', message: 'full', retryAfterMs: 1500 },
    })
    const error = await connect({ host: '127.0.0.1', port: server.port, clientId: 'x' }).catch(
      (e: unknown) => e,
    )
    expect((error as TandemError).code).toBe('ERR_BUSY')
    expect((error as TandemError).retryAfterMs).toBe(1500)
  })

  it('reports a refused connection as unreachable', async () => {
    const server = await fake.start()
    const port = server.port
    await server.close()
    expect(await codeOf(connect({ host: '127.0.0.1', port, clientId: 'x' }))).toBe(
      'ERR_UNREACHABLE',
    )
  })
})

describe('requests', () => {
  it('pipelines requests and matches answers in order', async () => {
    const c = await setup()
    const results = await Promise.all([c.ping(), c.list(), c.log({ limit: 5 }), c.ping()])
    expect(results[1]).toEqual({ files: [] })
    const ids = fake.server!.received.flatMap((r) =>
      r.kind === 'control' && 'op' in r.message ? [r.message.id] : [],
    )
    expect(ids).toEqual([1, 2, 3, 4])
    expect(fake.server!.received[3]).toMatchObject({ message: { op: 'log', limit: 5 } })
  })

  it('rejects an error response with its code and stays usable', async () => {
    const c = await setup()
    expect(await codeOf(c.request('frobnicate', { name: 'a' }))).toBe('ERR_UNKNOWN_OPERATION')
    await expect(c.ping()).resolves.toEqual({})
  })

  it('fails everything pending with ERR_CONNECTION_CLOSED when the socket ends', async () => {
    const c = await setup()
    await c.ping()
    const closed = new Promise<TandemError | undefined>((resolve) => c.onClose(resolve))
    for (const socket of fake.server!.sockets) socket.destroy()
    const pending = c.download('never', new Writable({ write: (_c, _e, cb) => cb() }))
    expect(await codeOf(pending)).toBe('ERR_CONNECTION_CLOSED')
    expect((await closed)?.code).toBe('ERR_CONNECTION_CLOSED')
    expect(await codeOf(c.ping())).toBe('ERR_CONNECTION_CLOSED')
  })

  it('pings while following, so an idle timeout does not close a listener', async () => {
    const c = await setup()
    await c.follow(() => {}, { keepAliveMs: 20 })
    const pings = () =>
      fake.server!.received.filter((r) => r.kind === 'control' && r.message.op === 'ping').length
    await expect.poll(pings).toBeGreaterThanOrEqual(2)
  })

  it('delivers follow events', async () => {
    const c = await setup()
    const events: unknown[] = []
    await c.follow((event) => events.push(event))
    fake.server!.emitEvent({ seq: 1, op: 'upload', name: 'a' })
    await expect.poll(() => events.length).toBe(1)
    expect(events[0]).toMatchObject({ seq: 1 })
  })
})

describe('bodies', () => {
  it('sends bodies in data frames of at most dataChunk bytes, with a verified hash', async () => {
    const c = await setup()
    const content = randomBytes(Limits.dataChunk * 2 + 123)
    const progress: number[] = []
    const result = await c.upload('a.bin', content, {
      mtime: 5,
      onProgress: (done) => progress.push(done),
    })
    expect(result.size).toBe(content.length)
    expect(fake.server!.files.get('a.bin')!.equals(content)).toBe(true)
    const lengths = fake.server!.received.flatMap((r) => (r.kind === 'data' ? [r.length] : []))
    expect(lengths).toEqual([Limits.dataChunk, Limits.dataChunk, 123])
    expect(progress.at(-1)).toBe(content.length)
    expect(fake.server!.received[1]).toMatchObject({
      message: { op: 'upload', size: content.length, mtime: 5 },
    })
  })

  it('streams a Readable body, an empty body, and lazily opened bodies', async () => {
    const c = await setup()
    const big = randomBytes(3 * Limits.dataChunk + 7)
    await c.write('r.bin', Readable.from([big.subarray(0, 10), big.subarray(10)]))
    await c.create('empty', Buffer.alloc(0))
    await c.append('r.bin', () => Readable.from([Buffer.from('tail')]))
    expect(fake.server!.files.get('r.bin')!.equals(Buffer.concat([big, Buffer.from('tail')]))).toBe(
      true,
    )
    expect(fake.server!.files.get('empty')!.length).toBe(0)
  })

  it('never interleaves the bodies of pipelined uploads', async () => {
    const c = await setup()
    const bodies = [0, 1, 2, 3].map(() => randomBytes(Limits.dataChunk * 3))
    await Promise.all(bodies.map((body, i) => c.upload(`f${i}`, Readable.from([body]))))
    // Each request is followed by exactly its own data frames and end before the next control.
    const kinds = fake.server!.received.slice(1).map((r) => r.kind)
    expect(kinds).toEqual(Array(4).fill(['control', 'data', 'data', 'data', 'end']).flat())
    bodies.forEach((body, i) => expect(fake.server!.files.get(`f${i}`)!.equals(body)).toBe(true))
  })

  it('reports a failing body stream with its own error and keeps the connection usable', async () => {
    const c = await setup()
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(1000))
        this.destroy(new Error('disk read failed'))
      },
    })
    const error = await c.upload('x', failing).catch((e: unknown) => e)
    expect((error as Error).message).toBe('disk read failed')
    expect(fake.server!.files.has('x')).toBe(false)
    await expect(c.ping()).resolves.toEqual({})
  })

  it('fails a body that cannot be opened without sending anything', async () => {
    const c = await setup()
    const error = await c
      .upload('x', () => {
        throw new Error('cannot open')
      })
      .catch((e: unknown) => e)
    expect((error as Error).message).toBe('cannot open')
    expect(
      fake.server!.received.some((r) => r.kind === 'control' && r.message.op === 'upload'),
    ).toBe(false)
  })
})

describe('downloads', () => {
  it('streams into a slow Writable with backpressure and checks the SHA-256', async () => {
    const c = await setup({ downloadChunk: 64 * 1024 })
    const content = randomBytes(2 * 1024 * 1024 + 5)
    fake.server!.files.set('big', content)
    const { sink, chunks } = slowSink(1)
    const sizes: number[] = []
    const result = await c.download('big', sink, {
      onProgress: (done, total) => sizes.push(total ?? -1, done),
    })
    expect(Buffer.concat(chunks).equals(content)).toBe(true)
    expect(result.size).toBe(content.length)
    expect(sizes.at(-1)).toBe(content.length)
    // The next download on the same connection still works after the pauses.
    const second = slowSink(0)
    await c.download('big', second.sink)
    expect(Buffer.concat(second.chunks).length).toBe(content.length)
  })

  it('rejects a body whose SHA-256 does not match, and stays usable', async () => {
    const c = await setup({ badDownloadHash: true })
    fake.server!.files.set('a', Buffer.from('hello'))
    expect(await codeOf(c.download('a', slowSink(0).sink))).toBe('ERR_INTEGRITY')
    await expect(c.ping()).resolves.toEqual({})
  })

  it('rejects a missing file with the server code', async () => {
    const c = await setup()
    expect(await codeOf(c.download('nope', slowSink(0).sink))).toBe('ERR_NOT_FOUND')
  })

  it('pipelines downloads and uploads on one connection', async () => {
    const c = await setup()
    fake.server!.files.set('a', randomBytes(700_000))
    const sinks = [slowSink(0), slowSink(0), slowSink(0)]
    await Promise.all([
      c.download('a', sinks[0]!.sink),
      c.upload('b', randomBytes(500_000)),
      c.download('a', sinks[1]!.sink),
      c.download('b', sinks[2]!.sink),
    ])
    expect(Buffer.concat(sinks[1]!.chunks).equals(fake.server!.files.get('a')!)).toBe(true)
    expect(Buffer.concat(sinks[2]!.chunks).equals(fake.server!.files.get('b')!)).toBe(true)
  })
})

describe('close', () => {
  it('waits for requests in flight, then closes cleanly', async () => {
    const c = await setup()
    const ping = c.ping()
    const reasons: unknown[] = []
    c.onClose((reason) => reasons.push(reason))
    await c.close()
    await expect(ping).resolves.toEqual({})
    expect(reasons).toEqual([undefined])
    expect(c.isClosed).toBe(true)
  })
})
