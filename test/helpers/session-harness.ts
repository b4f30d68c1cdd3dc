/**
 * A real binary Session (src/server/session/session.ts) driven in-process, the way fastify's
 * `inject()` drives routes: no socket, no Piscina. The session gets one end of a MessageChannel in
 * a SessionTask, as the main thread hands it over; the other end is answered here, as
 * net/session-bridge.ts answers it, from an OpsHarness (test/helpers/ops-harness.ts):
 *
 * - bytes in: gathered per turn of the event loop into pooled buffers of `chunkSize` (256 KiB, as
 *   the bridge does), transferred, recycled when acknowledged; no more than a window (8 MiB, one
 *   session's) unacknowledged before the writer waits;
 * - bytes out: decoded by the protocol's FrameDecoder, credited back (`sent`, buffers returned)
 *   once per turn;
 * - locks by token (with the harness's user-lock refusal), released when the session ends;
 *   log lines, `published`, log and status queries, user locks, `follow`.
 *
 * The session reads the index through its own IndexView (index.db in the harness's state dir,
 * which the sync worker would write: absent here, so empty). The harness's in-memory user locks
 * still refuse writes where the main thread does: when a write lock is granted.
 */
import { createHash } from 'node:crypto'
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads'
import {
  FrameDecoder,
  Limits,
  TandemError,
  encodeControl,
  encodeData,
  encodeEnd,
  toWireError,
  type DownloadHeader,
  type LogEntry,
  type Response,
  type WireError,
} from '../../src/protocol/index.js'
import type { Release } from '../../src/server/locks/lock-manager.js'
import { Session } from '../../src/server/session/session.js'
import type { FromWorker, SessionTask, ToWorker } from '../../src/server/workers/messages.js'
import { registerCleanup } from './cleanup.js'
import type { OpsHarness } from './ops-harness.js'

/** As the bridge: the size of the pooled input buffers, and one session's window. */
const IN_BUFFER_SIZE = 256 * 1024
const IN_WINDOW = 8 * 1024 * 1024

export interface InjectOptions {
  /** The client's id, from its hello (default 'alice'). */
  clientId?: string
  /** The size of each input buffer handed to the session (default 256 KiB, as the bridge). */
  chunkSize?: number
  /** Default 120 000 ms. */
  idleTimeoutMs?: number
}

/** How the session ended: the connection error it sent, if any, and the reason it gave. */
export interface SessionEnd {
  error: WireError | undefined
  reason: string
}

/** A server message as decoded: a response, an event or a connection error. */
export type Received =
  | Response
  | { type: 'event'; event: LogEntry }
  | { type: 'error'; error: WireError }
  | { type: string; [key: string]: unknown }

export interface InjectedSession {
  readonly clientId: string
  readonly sessionId: string
  /** Every control message the session sent, in order. */
  readonly messages: Received[]
  /** Entries sent by `log --follow`. */
  readonly events: LogEntry[]
  /** Set once the session asked to close the connection. */
  readonly ended: SessionEnd | undefined
  /** Send a request (an id is given when it has none); resolves to its response. */
  request(message: Record<string, unknown>): Promise<Response>
  /** A body operation: the request, its data frames, the end frame with the body's SHA-256. */
  upload(
    name: string,
    bytes: string | Uint8Array,
    options?: {
      op?: 'upload' | 'create' | 'write' | 'append'
      fields?: Record<string, unknown>
      /** The end frame's SHA-256 (default the body's). */
      sha256?: Buffer
    },
  ): Promise<Response>
  /** Download a file: its bytes, checked against the header's size and the end frame's hash. */
  download(name: string): Promise<Buffer>
  /** Push any bytes, as a client's socket would deliver them. */
  raw(bytes: Uint8Array): Promise<void>
  /** The first message (from the start) that matches, waiting for it if need be. */
  waitFor(match: (message: Received) => boolean, timeoutMs?: number): Promise<Received>
  /** Resolves when the session's task has ended. */
  readonly done: Promise<SessionEnd>
  /** The client closes its side; resolves when the session's task has ended. */
  close(): Promise<SessionEnd>
}

type Pending = {
  op: string
  resolve: (response: Response) => void
  reject: (err: Error) => void
}

interface Body {
  header: DownloadHeader
  chunks: Buffer[]
  resolve: (bytes: Buffer) => void
  reject: (err: Error) => void
}

let sessions = 0

/** Start a real Session on a MessageChannel, answered by `harness`; closed with the test. */
export function injectSession(harness: OpsHarness, options: InjectOptions = {}): InjectedSession {
  const clientId = options.clientId ?? 'alice'
  const chunkSize = options.chunkSize ?? IN_BUFFER_SIZE
  const sessionId = `inject-${++sessions}`
  const { port1: port, port2: workerPort } = new MessageChannel()
  const task: SessionTask = {
    port: workerPort,
    sessionId,
    remoteAddress: 'in-process',
    hello: { type: 'hello', role: 'client', id: clientId, software: 'session-harness' },
    config: {
      serverName: harness.config.serverName,
      root: harness.root,
      idleTimeoutMs: options.idleTimeoutMs ?? 120_000,
      lockTimeoutMs: harness.lockTimeoutMs,
      primary: null,
      stateDir: harness.stateDir,
    },
  }

  const messages: Received[] = []
  const events: LogEntry[] = []
  const watchers = new Set<(message: Received) => void>()
  const pending = new Map<number, Pending>()
  const downloads: Body[] = []
  let body: Body | undefined
  let nextId = 1
  let ended: SessionEnd | undefined
  let connectionError: WireError | undefined
  let portClosed = false
  let taskDone = false
  let clientClosed = false

  // ---- main thread → session --------------------------------------------------------------
  const toWorker = (message: ToWorker, transfer?: ArrayBuffer[]): void => {
    if (!taskDone && !portClosed) port.postMessage(message, transfer)
  }

  let inFlight = 0
  const spare: ArrayBuffer[] = []
  let fill: { buf: ArrayBuffer; view: Uint8Array; length: number } | undefined
  let fillScheduled = false
  let wakeWriter: (() => void) | undefined

  const flushIn = (): void => {
    const f = fill
    if (!f) return
    fill = undefined
    inFlight += f.length
    toWorker({ t: 'in', buf: f.buf, offset: 0, length: f.length }, [f.buf])
  }
  const deliver = (bytes: Uint8Array): void => {
    let offset = 0
    while (offset < bytes.length) {
      const f = (fill ??= (() => {
        const buf = spare.pop() ?? new ArrayBuffer(chunkSize)
        return { buf, view: new Uint8Array(buf), length: 0 }
      })())
      const take = Math.min(chunkSize - f.length, bytes.length - offset)
      f.view.set(bytes.subarray(offset, offset + take), f.length)
      f.length += take
      offset += take
      if (f.length === chunkSize) flushIn()
    }
    if (fill && !fillScheduled) {
      fillScheduled = true
      setImmediate(() => {
        fillScheduled = false
        flushIn()
      })
    }
  }
  /** Writes in call order; each waits while the session is a window behind (a paused socket). */
  let writes: Promise<void> = Promise.resolve()
  const write = (frames: Uint8Array[]): Promise<void> => {
    const step = writes.then(async () => {
      for (const frame of frames) {
        if (clientClosed || ended) return
        while (inFlight > IN_WINDOW && !ended)
          await new Promise<void>((resolve) => (wakeWriter = resolve))
        deliver(frame)
      }
    })
    writes = step.catch(() => undefined)
    return step
  }

  // ---- session → main thread ---------------------------------------------------------------
  const decoder = new FrameDecoder(
    {
      onControl: (message) => onServerMessage(message as Received),
      onData: (piece) => {
        if (!body) throw new TandemError('ERR_BAD_FRAME', 'data frame outside a body')
        body.chunks.push(Buffer.from(piece))
      },
      onEnd: (sha256) => {
        const b = body
        if (!b) throw new TandemError('ERR_BAD_FRAME', 'end frame outside a body')
        body = undefined
        const bytes = Buffer.concat(b.chunks)
        const digest = createHash('sha256').update(bytes).digest()
        if (bytes.length !== b.header.size || !digest.equals(sha256))
          b.reject(
            new TandemError(
              'ERR_INTEGRITY',
              `download of '${b.header.name}': ${bytes.length} of ${b.header.size} bytes, SHA-256 ${digest.equals(sha256) ? 'matches' : 'differs'}`,
            ),
          )
        else b.resolve(bytes)
      },
    },
    { expectPreamble: false, maxControl: Limits.maxResponseControl },
  )

  const onServerMessage = (message: Received): void => {
    messages.push(message)
    if (message.type === 'event') events.push((message as { event: LogEntry }).event)
    if (message.type === 'error') connectionError = (message as { error: WireError }).error
    if (message.type === 'response') {
      const response = message as Response
      const waiting = pending.get(response.id)
      pending.delete(response.id)
      if (waiting?.op === 'download') {
        const b = downloads.shift()
        if (b && response.ok) {
          b.header = response.result as DownloadHeader
          body = b
        } else if (b && !response.ok) b.reject(TandemError.fromWire(response.error))
      }
      waiting?.resolve(response)
    }
    for (const watch of watchers) watch(message)
  }

  let sentBytes = 0
  let sentBufs: ArrayBuffer[] = []
  const onOut = (bufs: ArrayBuffer[]): void => {
    for (const buf of bufs) {
      try {
        decoder.push(Buffer.from(buf))
      } catch (err) {
        // The server sent bytes a client could not decode: a harness-visible failure.
        failAll(new TandemError('ERR_BAD_FRAME', `the session sent a bad frame: ${String(err)}`))
      }
      // Credit once per turn, as the bridge does from the socket's write callbacks.
      if (sentBytes === 0)
        setImmediate(() => {
          const bytes = sentBytes
          const returned = sentBufs
          sentBytes = 0
          sentBufs = []
          toWorker({ t: 'sent', bytes, bufs: returned }, returned)
        })
      sentBytes += buf.byteLength
      sentBufs.push(buf)
    }
  }

  const tokens = new Map<number, Release>()
  let nextToken = 1
  let unfollow: (() => void) | undefined

  const lock = async (message: Extract<FromWorker, { t: 'lock' }>): Promise<void> => {
    try {
      // As the bridge: the session's own client id, not the one in the message.
      const release = await harness.lock(message.names, message.mode, clientId, message.purpose)
      if (taskDone) return release()
      const token = nextToken++
      tokens.set(token, release)
      toWorker({ t: 'reply', req: message.req, value: token })
    } catch (err) {
      toWorker({ t: 'reply-failed', req: message.req, error: toWireError(err) })
    }
  }

  const reply = (req: number, value: Promise<unknown> | unknown): void => {
    Promise.resolve(value).then(
      (v) => toWorker({ t: 'reply', req, value: v }),
      (err: unknown) => toWorker({ t: 'reply-failed', req, error: toWireError(err) }),
    )
  }

  const onWorkerMessage = (message: FromWorker): void => {
    switch (message.t) {
      case 'batch':
        for (const inner of message.messages) onWorkerMessage(inner)
        return
      case 'out':
        return onOut(message.bufs)
      case 'ack':
        inFlight -= message.bytes
        for (const buf of message.bufs)
          if (buf.byteLength === chunkSize && spare.length < 64) spare.push(buf)
        if (inFlight < IN_WINDOW / 4) {
          const wake = wakeWriter
          wakeWriter = undefined
          wake?.()
        }
        return
      case 'lock':
        return void lock(message)
      case 'unlock':
        tokens.get(message.token)?.()
        tokens.delete(message.token)
        return
      case 'user-lock': {
        const { req, op, name, ttlSeconds, force } = message
        return reply(req, harness.userLock({ op, name, ttlSeconds, force }, clientId))
      }
      case 'log':
        return harness.record(message.entry, message.record)
      case 'published':
        harness.publications.push({
          name: message.name,
          sha256: message.sha256,
          identity: message.identity,
        })
        return
      case 'tree-change':
        harness.treeChanges.push(message.change)
        return reply(message.req, undefined)
      case 'query':
        if (message.what === 'log') return reply(message.req, harness.changeLog.query(message))
        return reply(message.req, harness.status())
      case 'follow':
        unfollow ??= harness.changeLog.subscribe((entry) => toWorker({ t: 'event', entry }))
        return
      case 'close':
        ended ??= { error: connectionError, reason: message.reason }
        // The bridge ends the socket; the client closes its side, and the session hears 'closed'.
        setImmediate(() => toWorker({ t: 'closed' }))
        wakeWriter?.()
        return
    }
  }
  port.on('message', (message: FromWorker) => onWorkerMessage(message))

  const failAll = (err: Error): void => {
    for (const p of pending.values()) p.reject(err)
    pending.clear()
    for (const b of downloads.splice(0)) b.reject(err)
    body?.reject(err)
    body = undefined
  }

  const session = new Session(task)
  const done: Promise<SessionEnd> = session.run().then(
    () => finish(),
    (err: unknown) => {
      finish()
      throw err
    },
  )
  const finish = (): SessionEnd => {
    taskDone = true
    // Messages queued just before the task's end still wait on the port: take them first.
    for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port))
      onWorkerMessage(m.message as FromWorker)
    for (const release of tokens.values()) release()
    tokens.clear()
    unfollow?.()
    unfollow = undefined
    portClosed = true
    port.close()
    workerPort.close()
    const end = (ended ??= { error: connectionError, reason: 'session ended' })
    failAll(
      new TandemError(
        'ERR_CONNECTION_CLOSED',
        `the session ended${end.error ? ` (${end.error.code})` : ''}`,
      ),
    )
    return end
  }

  const close = async (): Promise<SessionEnd> => {
    if (!clientClosed) {
      clientClosed = true
      await writes
      flushIn()
      toWorker({ t: 'closed' })
    }
    return done
  }
  registerCleanup(async () => {
    await close()
  })

  const send = (message: Record<string, unknown>, frames: Uint8Array[] = []): Promise<Response> => {
    const id = typeof message.id === 'number' ? message.id : nextId++
    const op = typeof message.op === 'string' ? message.op : ''
    const request = { ...message, id }
    const response = new Promise<Response>((resolve, reject) => {
      if (taskDone) return reject(new TandemError('ERR_CONNECTION_CLOSED', 'the session ended'))
      pending.set(id, { op, resolve, reject })
    })
    void write([encodeControl(request), ...frames])
    return response
  }

  return {
    clientId,
    sessionId,
    messages,
    events,
    get ended() {
      return ended
    },
    done,
    request: (message) => send(message),
    upload(name, bytes, opts = {}) {
      const content = typeof bytes === 'string' ? Buffer.from(bytes) : bytes
      const frames: Uint8Array[] = []
      for (let offset = 0; offset < content.length; offset += Limits.dataChunk)
        frames.push(...encodeData(content.subarray(offset, offset + Limits.dataChunk)))
      const sha256 = opts.sha256 ?? createHash('sha256').update(content).digest()
      frames.push(encodeEnd(sha256))
      return send({ op: opts.op ?? 'upload', name, ...opts.fields }, frames)
    },
    async download(name) {
      const bytes = new Promise<Buffer>((resolve, reject) => {
        downloads.push({ header: { name, size: 0, mtime: 0 }, chunks: [], resolve, reject })
      })
      bytes.catch(() => undefined) // rejected with the response too: awaited below
      const response = await send({ op: 'download', name })
      if (!response.ok) throw TandemError.fromWire(response.error)
      return bytes
    },
    raw: (bytes) => write([bytes]),
    waitFor(match, timeoutMs = 2_000) {
      const found = messages.find(match)
      if (found) return Promise.resolve(found)
      return new Promise<Received>((resolve, reject) => {
        const timer = setTimeout(() => {
          watchers.delete(watch)
          reject(new Error(`no matching message within ${timeoutMs} ms`))
        }, timeoutMs)
        const watch = (message: Received): void => {
          if (!match(message)) return
          clearTimeout(timer)
          watchers.delete(watch)
          resolve(message)
        }
        watchers.add(watch)
      })
    },
    close,
  }
}
