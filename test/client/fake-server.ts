// A hand-made tandem server for the connection's unit tests: it speaks the protocol frame by
// frame over a real socket on port 0, keeps files in memory, and records every frame it receives
// so tests can check ordering. Tests can swap in misbehaviours (wrong version, busy, bad hash).
import { createHash } from 'node:crypto'
import net from 'node:net'
import { connect, type Connection } from '../../src/client/connection.js'
import {
  encodeControl,
  encodeData,
  encodeEnd,
  encodePreamble,
  FrameDecoder,
  Limits,
  TandemError,
  type WireError,
} from '../../src/protocol/index.js'

export type Received =
  | { kind: 'control'; message: Record<string, unknown> }
  | { kind: 'data'; length: number }
  | { kind: 'end' }

export interface FakeServerOptions {
  /** Preamble version to announce (default 1). */
  version?: number
  /** Answer the hello with this connection error, then close. */
  refuseWith?: WireError
  /** Corrupt the SHA-256 of downloads. */
  badDownloadHash?: boolean
  /** Size of data frames for downloads (default Limits.dataChunk). */
  downloadChunk?: number
  /** Send only this many bytes of a download's body, then nothing more (a stalled server). */
  stallDownloadAfter?: number
  /**
   * A lost server: once the `nth` (1-based, default 1) request of one of these ops has arrived
   * (with its body), close the connection without answering it.
   */
  dropOn?: { ops: string[]; nth?: number; then?: () => void }
  /** Answer requests of these ops with this error (after reading their body). */
  failOps?: Record<string, WireError>
}

export interface FakeServer {
  port: number
  files: Map<string, Buffer>
  received: Received[]
  sockets: Set<net.Socket>
  /** Send a log event to every connected client. */
  emitEvent(event: Record<string, unknown>): void
  close(): Promise<void>
}

export async function startFakeServer(options: FakeServerOptions = {}): Promise<FakeServer> {
  const files = new Map<string, Buffer>()
  const received: Received[] = []
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    serve(socket, { files, received, options })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  return {
    port,
    files,
    received,
    sockets,
    emitEvent(event) {
      for (const socket of sockets) socket.write(encodeControl({ type: 'event', event }))
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

interface Context {
  files: Map<string, Buffer>
  received: Received[]
  options: FakeServerOptions
}

function serve(socket: net.Socket, ctx: Context): void {
  let hello = false
  let seen = 0
  let gone = false
  /** True (and the connection closed) when this request is the one to drop on. */
  const dropped = (request: Record<string, unknown>): boolean => {
    const drop = ctx.options.dropOn
    if (!drop?.ops.includes(String(request.op))) return false
    if (++seen < (drop.nth ?? 1)) return false
    // Gone: nothing more is read or answered. A FIN after what was sent (not a reset, which
    // could take the answers already sent with it): the client reads those, then the end.
    gone = true
    socket.end()
    drop.then?.()
    return true
  }
  const failed = (request: Record<string, unknown>): boolean => {
    const error = ctx.options.failOps?.[String(request.op)]
    if (!error) return false
    reply({ type: 'response', id: request.id, ok: false, error })
    return true
  }
  let body: { request: Record<string, unknown>; chunks: Buffer[] } | undefined
  let frameLength = 0
  const reply = (message: unknown): boolean => socket.write(encodeControl(message))
  const decoder = new FrameDecoder(
    {
      onControl(message) {
        const request = message as Record<string, unknown>
        ctx.received.push({ kind: 'control', message: request })
        if (!hello) {
          hello = true
          if (ctx.options.refuseWith) {
            reply({ type: 'error', error: ctx.options.refuseWith })
            socket.end()
            return
          }
          reply({ type: 'welcome', server: { name: 'F', version: '0.0.0' }, sessionId: 's1' })
          return
        }
        if (['upload', 'create', 'write', 'append'].includes(String(request.op))) {
          body = { request, chunks: [] }
          return
        }
        if (dropped(request) || failed(request)) return
        answer(socket, ctx, request)
      },
      onData(piece, frameEnd) {
        body?.chunks.push(Buffer.from(piece))
        frameLength += piece.length
        if (frameEnd) {
          ctx.received.push({ kind: 'data', length: frameLength })
          frameLength = 0
        }
      },
      onEnd(sha256) {
        ctx.received.push({ kind: 'end' })
        if (!body) return
        const { request, chunks } = body
        body = undefined
        if (dropped(request) || failed(request)) return
        finishBody(ctx, request, Buffer.concat(chunks), sha256, reply)
      },
    },
    { expectPreamble: true, maxControl: Limits.maxRequestControl },
  )
  socket.write(encodePreamble(ctx.options.version ?? 1))
  socket.on('data', (chunk: Buffer) => {
    if (!gone) decoder.push(chunk)
  })
}

function finishBody(
  ctx: Context,
  request: Record<string, unknown>,
  content: Buffer,
  sha256: Buffer,
  reply: (message: unknown) => boolean,
): void {
  const id = request.id as number
  const name = String(request.name)
  const digest = createHash('sha256').update(content).digest()
  if (!digest.equals(sha256)) {
    reply({
      type: 'response',
      id,
      ok: false,
      error: { code: 'ERR_INTEGRITY', message: 'bad hash' },
    })
    return
  }
  if (request.op === 'create' && ctx.files.has(name)) {
    reply({ type: 'response', id, ok: false, error: { code: 'ERR_EXISTS', message: 'exists' } })
    return
  }
  const stored =
    request.op === 'append'
      ? Buffer.concat([ctx.files.get(name) ?? Buffer.alloc(0), content])
      : content
  ctx.files.set(name, stored)
  const result = { name, size: stored.length, mtime: 1, sha256: digest.toString('hex') }
  reply({ type: 'response', id, ok: true, result })
}

function answer(socket: net.Socket, ctx: Context, request: Record<string, unknown>): void {
  const id = request.id as number
  const ok = (result: unknown): boolean =>
    socket.write(encodeControl({ type: 'response', id, ok: true, result }))
  const fail = (code: string, message: string): boolean =>
    socket.write(encodeControl({ type: 'response', id, ok: false, error: { code, message } }))
  const name = String(request.name)
  switch (request.op) {
    case 'ping':
      ok({})
      return
    case 'list':
      ok({
        files: [...ctx.files].map(([n, b], index) => ({
          index,
          name: n,
          size: b.length,
          mtime: 1,
          servers: ['F'],
          locked: false,
          locks: [],
          differs: false,
        })),
      })
      return
    case 'lock':
    case 'unlock':
      answerLock(ctx, request, ok, fail)
      return
    case 'log':
      ok({ entries: [] })
      return
    case 'download': {
      const content = ctx.files.get(name)
      if (!content) return void fail('ERR_NOT_FOUND', `no file '${name}'`)
      ok({ name, size: content.length, mtime: 1 })
      sendContent(socket, content, ctx.options)
      return
    }
    default:
      fail('ERR_UNKNOWN_OPERATION', `unknown operation ${String(request.op)}`)
  }
}

/** Lock and unlock, just enough to check what the client sends: nothing is held. */
function answerLock(
  ctx: Context,
  request: Record<string, unknown>,
  ok: (result: unknown) => boolean,
  fail: (code: string, message: string) => boolean,
): void {
  const names = [...ctx.files.keys()]
  const name = typeof request.name === 'string' ? request.name : names[Number(request.index)]
  if (name === undefined || !ctx.files.has(name)) return void fail('ERR_NOT_FOUND', 'no such file')
  if (request.expect !== undefined && request.expect !== name)
    return void fail('ERR_LISTING_CHANGED', `index ${String(request.index)} is now ${name}`)
  if (request.op === 'unlock') {
    ok({ name, owner: 'fake', forced: request.force === true, applied: 2, conflicts: 1 })
    return
  }
  const ttl = typeof request.ttlSeconds === 'number' ? request.ttlSeconds : undefined
  const expiresAt = ttl === undefined ? null : Date.now() + ttl * 1000
  ok({ name, server: 'F', owner: 'fake', since: Date.now(), expiresAt, queued: 0 })
}

function sendContent(socket: net.Socket, content: Buffer, options: FakeServerOptions): void {
  const chunk = options.downloadChunk ?? Limits.dataChunk
  const stall = options.stallDownloadAfter
  const sent = stall === undefined ? content : content.subarray(0, stall)
  for (let offset = 0; offset < sent.length; offset += chunk) {
    socket.write(Buffer.concat(encodeData(sent.subarray(offset, offset + chunk))))
  }
  if (stall !== undefined) return
  const digest = createHash('sha256').update(content).digest()
  if (options.badDownloadHash) digest[0] = digest[0]! ^ 0xff
  socket.write(encodeEnd(digest))
}

/**
 * One fake server per test and the connections made to it: `setup()` starts the server on first
 * use and connects; `teardown()` (call it in afterEach) ends them all.
 */
export function fakeServerFixture(clientId: string): {
  setup(options?: FakeServerOptions): Promise<Connection>
  /** Only the server (for tests that connect by hand). */
  start(options?: FakeServerOptions): Promise<FakeServer>
  teardown(): Promise<void>
  readonly server: FakeServer | undefined
} {
  let server: FakeServer | undefined
  const conns: Connection[] = []
  return {
    async setup(options = {}) {
      server ??= await startFakeServer(options)
      const conn = await connect({ host: '127.0.0.1', port: server.port, clientId })
      conns.push(conn)
      return conn
    },
    async start(options = {}) {
      server = await startFakeServer(options)
      return server
    },
    async teardown() {
      for (const conn of conns.splice(0)) conn.destroy()
      await server?.close().catch(() => undefined) // a test may have closed it already
      server = undefined
    },
    get server() {
      return server
    },
  }
}

/** The TandemError code a promise rejects with, or 'resolved'. */
export function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (err: unknown) => (err instanceof TandemError ? err.code : `not a TandemError: ${String(err)}`),
  )
}
