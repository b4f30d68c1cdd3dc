// Malformed connections: each answered with its code and closed, while another client keeps being
// served; a client that stops halfway through an upload leaves no partial file and no temp file.
import { existsSync } from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  encodeControl,
  encodeData,
  encodePreamble,
  FrameType,
  Limits,
} from '../../src/protocol/index.js'
import {
  rawConnect,
  startServer,
  tempFilesIn,
  TestClient,
  waitFor,
  type RawConnection,
  type ServerHandle,
  frameHeader,
} from '../helpers/index.js'

/** The connection-level error the server sent, after waiting for it to close the connection. */
async function closedWith(conn: RawConnection): Promise<string | undefined> {
  await waitFor(() => conn.isClosed, {
    timeoutMs: 10_000,
    what: 'the server to close the connection',
  })
  const error = conn.frames.find((f) => f.kind === 'control' && f.message.type === 'error')
  return error?.kind === 'control' ? (error.message.error as { code: string }).code : undefined
}

async function helloed(port: number): Promise<RawConnection> {
  const conn = await rawConnect(port)
  await conn.sendPreamble()
  await conn.sendControl({ type: 'hello', role: 'client', id: 'raw' })
  const welcome = await conn.nextControl()
  expect(welcome.type).toBe('welcome')
  return conn
}

describe('bad frames', () => {
  let server: ServerHandle
  let bystander: TestClient
  let round = 0
  beforeAll(async () => {
    server = await startServer()
    bystander = await TestClient.connect(server.port, { clientId: 'bystander' })
  })

  async function bystanderServed(): Promise<void> {
    const body = Buffer.from(`round ${++round}`)
    expect((await bystander.upload('bystander.txt', body)).ok).toBe(true)
    expect((await bystander.download('bystander.txt')).body).toEqual(body)
  }

  it('garbage instead of a preamble: ERR_BAD_FRAME, closed', async () => {
    const conn = await rawConnect(server.port)
    await conn.send(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))
    expect(await closedWith(conn)).toBe('ERR_BAD_FRAME')
    await bystanderServed()
  })

  it('another protocol version: ERR_UNSUPPORTED_VERSION, closed', async () => {
    const conn = await rawConnect(server.port)
    await conn.send(encodePreamble(2))
    expect(await closedWith(conn)).toBe('ERR_UNSUPPORTED_VERSION')
    await bystanderServed()
  })

  it('a length of 0xFFFFFFFF before the hello: ERR_TOO_LARGE, closed', async () => {
    const conn = await rawConnect(server.port)
    await conn.send(encodePreamble(), frameHeader(0xffffffff, FrameType.Control))
    expect(await closedWith(conn)).toBe('ERR_TOO_LARGE')
    await bystanderServed()
  })

  it('a data frame before the hello: ERR_BAD_FRAME, closed', async () => {
    const conn = await rawConnect(server.port)
    await conn.send(encodePreamble(), ...encodeData(Buffer.from('early')))
    expect(await closedWith(conn)).toBe('ERR_BAD_FRAME')
  })

  it('a hello with requests in the same write: all answered in order', async () => {
    const conn = await rawConnect(server.port)
    await conn.send(
      Buffer.concat([
        encodePreamble(),
        encodeControl({ type: 'hello', role: 'client', id: 'eager' }),
        encodeControl({ id: 1, op: 'ping' }),
        encodeControl({ id: 2, op: 'stat', name: 'bystander.txt' }),
      ]),
    )
    expect(await conn.nextControl()).toMatchObject({ type: 'welcome' })
    expect(await conn.nextControl()).toMatchObject({ type: 'response', id: 1, ok: true })
    expect(await conn.nextControl()).toMatchObject({ type: 'response', id: 2 })
    conn.end()
  })

  it('a first message that is not a hello: ERR_BAD_REQUEST, closed', async () => {
    const conn = await rawConnect(server.port)
    await conn.send(encodePreamble(), encodeControl({ id: 1, op: 'list' }))
    expect(await closedWith(conn)).toBe('ERR_BAD_REQUEST')
  })

  it('an oversized control frame: ERR_TOO_LARGE, closed', async () => {
    const conn = await helloed(server.port)
    await conn.send(frameHeader(Limits.maxRequestControl + 1, FrameType.Control))
    expect(await closedWith(conn)).toBe('ERR_TOO_LARGE')
    await bystanderServed()
  })

  it('an oversized data frame: ERR_TOO_LARGE, closed, no temp file left', async () => {
    const conn = await helloed(server.port)
    await conn.sendControl({ id: 1, op: 'upload', name: 'too-large.txt' })
    await conn.send(frameHeader(Limits.maxData + 1, FrameType.Data))
    expect(await closedWith(conn)).toBe('ERR_TOO_LARGE')
    await waitFor(() => tempFilesIn(server.root).length === 0, { what: 'no temp file' })
    expect(existsSync(path.join(server.root, 'too-large.txt'))).toBe(false)
    await bystanderServed()
  })

  it('an unknown frame type and a data frame outside a body: ERR_BAD_FRAME', async () => {
    const first = await helloed(server.port)
    await first.send(frameHeader(1, 9), Buffer.from([0]))
    expect(await closedWith(first)).toBe('ERR_BAD_FRAME')
    const second = await helloed(server.port)
    await second.send(...encodeData(Buffer.from('stray')))
    expect(await closedWith(second)).toBe('ERR_BAD_FRAME')
    await bystanderServed()
  })

  it('a control frame that is not JSON: ERR_BAD_FRAME', async () => {
    const conn = await helloed(server.port)
    const junk = Buffer.from('{"id": 1, "op": ')
    await conn.send(frameHeader(junk.length, FrameType.Control), junk)
    expect(await closedWith(conn)).toBe('ERR_BAD_FRAME')
  })

  it('an unknown operation: ERR_UNKNOWN_OPERATION for that request, the connection stays', async () => {
    const client = await TestClient.connect(server.port)
    const reply = await client.call('format-disk')
    expect(reply.error?.code).toBe('ERR_UNKNOWN_OPERATION')
    expect((await client.call('ping')).ok).toBe(true)
    await client.close()
  })

  it('a malformed request: ERR_BAD_REQUEST for that request, the connection stays', async () => {
    const client = await TestClient.connect(server.port)
    expect((await client.call('stat', { name: 42 })).error?.code).toBe('ERR_BAD_REQUEST')
    expect((await client.call('ping')).ok).toBe(true)
    await client.close()
  })

  it('a truncated frame then close: the server carries on', async () => {
    const conn = await helloed(server.port)
    const frame = encodeControl({ id: 1, op: 'list' })
    await conn.send(frame.subarray(0, frame.length - 3))
    conn.end()
    await waitFor(() => conn.isClosed, { what: 'the connection to close' })
    await bystanderServed()
  })

  it('a client that closes halfway through an upload leaves no partial file and no temp file', async () => {
    const conn = await helloed(server.port)
    await conn.sendControl({ id: 1, op: 'upload', name: 'half.txt' })
    await conn.sendBody(Buffer.alloc(3 * Limits.dataChunk, 7), { end: false })
    await waitFor(() => tempFilesIn(server.root).length > 0, { what: 'the upload to start' })
    conn.destroy()
    await waitFor(() => tempFilesIn(server.root).length === 0, { what: 'the temp file to go' })
    expect(existsSync(path.join(server.root, 'half.txt'))).toBe(false)
    expect((await bystander.list()).result!.files.map((f) => f.name)).not.toContain('half.txt')
    await bystanderServed()
  })

  it('a client that closes halfway through replacing a file leaves the old version', async () => {
    expect((await bystander.upload('keep.txt', Buffer.from('old version'))).ok).toBe(true)
    const conn = await helloed(server.port)
    await conn.sendControl({ id: 1, op: 'upload', name: 'keep.txt' })
    await conn.sendBody(Buffer.alloc(2 * Limits.dataChunk, 9), { end: false })
    await waitFor(() => tempFilesIn(server.root).length > 0, { what: 'the upload to start' })
    conn.destroy()
    await waitFor(() => tempFilesIn(server.root).length === 0, { what: 'the temp file to go' })
    expect((await bystander.download('keep.txt')).body?.toString()).toBe('old version')
  })
})

describe('idle timeout', () => {
  let server: ServerHandle
  beforeAll(async () => {
    server = await startServer({ extraArgs: ['--idle-timeout-ms', '1000'] })
  })

  it('closes a silent client with ERR_TIMEOUT, freeing its slot', async () => {
    const conn = await helloed(server.port)
    const started = Date.now()
    expect(await closedWith(conn)).toBe('ERR_TIMEOUT')
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
    const observer = await TestClient.connect(server.port)
    await waitFor(async () => (await observer.status()).result?.clients.connected === 1, {
      what: 'the slot to be freed',
    })
    await observer.close()
  })

  it('closes a client gone silent halfway through an upload: no partial file, no temp file', async () => {
    const conn = await helloed(server.port)
    await conn.sendControl({ id: 1, op: 'upload', name: 'silent.txt' })
    await conn.sendBody(Buffer.alloc(2 * Limits.dataChunk, 3), { end: false })
    await waitFor(() => tempFilesIn(server.root).length > 0, { what: 'the upload to start' })
    expect(await closedWith(conn)).toBe('ERR_TIMEOUT')
    await waitFor(() => tempFilesIn(server.root).length === 0, { what: 'the temp file to go' })
    expect(existsSync(path.join(server.root, 'silent.txt'))).toBe(false)
  })

  it('does not close a client that keeps talking', async () => {
    const client = await TestClient.connect(server.port)
    const until = Date.now() + 2_500
    while (Date.now() < until) {
      expect((await client.call('ping')).ok).toBe(true)
      await new Promise((resolve) => setTimeout(resolve, 300))
    }
    expect(client.conn.isClosed).toBe(false)
    await client.close()
  })
})
