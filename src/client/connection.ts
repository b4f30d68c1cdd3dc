/**
 * The client side of the tandem wire protocol: one TCP connection to one server, with typed,
 * pipelined requests and streamed bodies. It returns data and never prints; the CLI and the menu
 * decide what a person sees.
 *
 * Requests go out through one send queue: a request's control frame and, for body ops, all of its
 * data frames and the end frame leave before the next request starts, so several uploads may be in
 * flight but their bodies never interleave. Responses come back in order and are matched by id.
 */
import net from 'node:net'
import type { Writable } from 'node:stream'
import {
  encodeControl,
  encodePreamble,
  FrameDecoder,
  Limits,
  PROTOCOL_VERSION,
  TandemError,
  type DeleteResult,
  type DownloadHeader,
  type FileRow,
  type Hello,
  type ListResult,
  type LogEntry,
  type LogResult,
  type RenameResult,
  type ServerLoad,
  type StatusResult,
  type WireError,
  type WriteResult,
} from '../protocol/client.js'
import { DownloadReceiver, type DownloadOptions, type DownloadResult } from './download-receiver.js'
import { formatAddress, unreachable } from './address.js'
import type {
  BodyOptions,
  CloseListener,
  ConnectOptions,
  UploadOptions,
} from './connection-options.js'
import type { BodySource, Progress } from './body-sender.js'
import { parseServerMessage } from './server-message.js'
import { writeBlocks } from './block-pool.js'
import { RequestPipeline, type SendJob } from './request-pipeline.js'
import { requestIdsFor, type RequestIds } from './request-ids.js'

export type { BodySource, Progress } from './body-sender.js'
export type { DownloadOptions, DownloadResult } from './download-receiver.js'
export type { ServerLoad } from '../protocol/client.js'
export type {
  BodyOptions,
  CloseListener,
  ConnectOptions,
  UploadOptions,
} from './connection-options.js'

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000 // 10 s
const CLIENT_SOFTWARE = 'tandem-client'
const DEFAULT_KEEPALIVE_MS = 30_000 // 30 s, well under a server's idle timeout (2 min by default)
const DEFAULT_STALL_TIMEOUT_MS = 120_000 // 2 min, a server's own idle timeout
/**
 * The socket reads into one buffer per connection, reused for every read (net's `onread`), instead
 * of a new 64 KiB buffer per read: that garbage was a large part of a download's client CPU. Safe
 * because every consumer is done with a chunk when the callback returns: the decoder copies what
 * it keeps, and the download receiver copies data into its own staging blocks. A read is no
 * larger than one staging block, so that it completes at most one sink write: a file write stream
 * would merge several waiting writes into one large write, which is what the blocks' size avoids.
 */
const READ_BUFFER_BYTES = writeBlocks.blockBytes
/** The requests that change something: each carries a request id (`rid`, see request-ids.ts). */
const MUTATING_OPS = new Set([
  'upload',
  'create',
  'write',
  'append',
  'rename',
  'delete',
  'lock',
  'unlock',
])

/** One connection to a tandem server. Create it with `connect()`. */
export class Connection {
  /** The server's name and software version, from its welcome. */
  server: { name: string; version: string } = { name: '', version: '' }
  sessionId = ''
  /** The clients the server serves (this one included) and its maximum, from its welcome. */
  load: ServerLoad | undefined
  readonly host: string
  readonly port: number
  readonly #socket: net.Socket
  readonly #decoder: FrameDecoder
  readonly #pipeline: RequestPipeline
  readonly #eventListeners = new Set<(event: LogEntry) => void>()
  readonly #closeListeners = new Set<CloseListener>()
  #ids: RequestIds | undefined
  #receiving: DownloadReceiver | undefined
  #handshake: { resolve(): void; reject(error: Error): void } | undefined
  #serverError: TandemError | undefined
  #socketError: Error | undefined
  #closing = false
  #keepAlive: NodeJS.Timeout | undefined
  #stallWatch: NodeJS.Timeout | undefined
  /** The socket is paused by this side (the download's sink is full): not the server's stall. */
  #pausedHere = false
  #closed: { error: TandemError | undefined } | undefined

  private constructor(socket: net.Socket, host: string, port: number) {
    this.#socket = socket
    this.#pipeline = new RequestPipeline(socket)
    this.host = host
    this.port = port
    this.#decoder = new FrameDecoder(
      {
        onPreamble: (version) => this.#onPreamble(version),
        onControl: (message) => this.#onControl(message),
        onData: (piece) => this.#onData(piece),
        onEnd: (sha256) => this.#onEnd(sha256),
      },
      { expectPreamble: true, maxControl: Limits.maxResponseControl },
    )
    socket.on('error', (err) => (this.#socketError ??= err))
    socket.on('close', () => this.#onSocketClose())
  }

  /** Open a connection: TCP connect, preambles, hello → welcome. See `connect()`. */
  static async open(options: ConnectOptions): Promise<Connection> {
    const { host, port } = options
    const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
    const readBuffer = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES)
    const onread = {
      buffer: readBuffer,
      callback: (length: number): boolean => {
        conn.#onSocketData(readBuffer.subarray(0, length))
        return true
      },
    }
    const socket = net.connect({ host, port, onread })
    socket.setNoDelay(true)
    const conn = new Connection(socket, host, port)
    conn.#ids = requestIdsFor(options.clientId)
    const timeout = new TandemError(
      'ERR_TIMEOUT',
      `no answer from ${conn.address} in ${timeoutMs} ms`,
    )
    const timer = setTimeout(() => conn.#fail(timeout), timeoutMs)
    const hello: Hello = {
      type: 'hello',
      role: 'client',
      id: options.clientId,
      software: CLIENT_SOFTWARE,
    }
    try {
      await new Promise<void>((resolve, reject) => {
        conn.#handshake = { resolve, reject }
        socket.write(encodePreamble())
        socket.write(encodeControl(hello))
      })
      conn.#watchStalls(options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS)
      return conn
    } finally {
      clearTimeout(timer)
    }
  }

  /** "host:port" of the server. */
  get address(): string {
    return formatAddress(this.host, this.port)
  }

  /** True once the connection has ended (for any reason). */
  get isClosed(): boolean {
    return this.#closed !== undefined
  }

  /** A new request id of this client (request-ids.ts): for a request that may be replayed. */
  newRid(): string {
    return (this.#ids ??= requestIdsFor('client')).next()
  }

  /** True once this side asked to close (close(), destroy()): not a lost server. */
  get closedByClient(): boolean {
    return this.#closing
  }

  // ---- typed requests --------------------------------------------------------------------------

  list(): Promise<ListResult> {
    return this.#request({ op: 'list' }) as Promise<ListResult>
  }

  stat(name: string): Promise<FileRow> {
    return this.#request({ op: 'stat', name }) as Promise<FileRow>
  }

  /** `rid`: the request id of a replay (a new one is drawn otherwise). */
  rename(from: string, to: string, options: { rid?: string } = {}): Promise<RenameResult> {
    return this.#request({
      op: 'rename',
      from,
      to,
      ...definedOnly({ rid: options.rid }),
    }) as Promise<RenameResult>
  }

  /** Delete a file; a folder only with `recursive` (then every file under it goes). */
  delete(name: string, options?: { recursive?: boolean; rid?: string }): Promise<DeleteResult> {
    const request = options?.recursive
      ? { op: 'delete', name, recursive: true }
      : { op: 'delete', name }
    return this.#request({
      ...request,
      ...definedOnly({ rid: options?.rid }),
    }) as Promise<DeleteResult>
  }

  log(options: { limit?: number } = {}): Promise<LogResult> {
    return this.#request({
      op: 'log',
      ...definedOnly({ limit: options.limit }),
    }) as Promise<LogResult>
  }

  /**
   * Ask for the log and keep receiving new entries: `onEvent` is called for each one until the
   * connection closes (use `onClose` to learn when). Resolves with the entries so far. While
   * following, a ping goes out every `keepAliveMs` (default 30 s, 0 for none): a listener that
   * only waits for news is not idle, and the server's idle timeout must not close it.
   */
  follow(
    onEvent: (event: LogEntry) => void,
    options: { limit?: number; keepAliveMs?: number } = {},
  ): Promise<LogResult> {
    this.#eventListeners.add(onEvent)
    const keepAliveMs = options.keepAliveMs ?? DEFAULT_KEEPALIVE_MS
    if (keepAliveMs > 0 && !this.#keepAlive) {
      this.#keepAlive = setInterval(() => void this.ping().catch(() => {}), keepAliveMs).unref()
      this.onClose(() => clearInterval(this.#keepAlive))
    }
    const request = { op: 'log', follow: true, ...definedOnly({ limit: options.limit }) }
    return this.#request(request) as Promise<LogResult>
  }

  status(): Promise<StatusResult> {
    return this.#request({ op: 'status' }) as Promise<StatusResult>
  }

  ping(): Promise<unknown> {
    return this.#request({ op: 'ping' })
  }

  /**
   * Any request by op name, for operations this library has no helper for yet: the server
   * answers an op it does not know with ERR_UNKNOWN_OPERATION.
   */
  request(op: string, fields: Record<string, unknown> = {}): Promise<unknown> {
    return this.#request({ ...fields, op })
  }

  // ---- bodies ----------------------------------------------------------------------------------

  /** Store a file (replacing any), atomically, verified by SHA-256. */
  upload(name: string, body: BodySource, options: UploadOptions = {}): Promise<WriteResult> {
    const size = options.size ?? (body instanceof Uint8Array ? body.length : undefined)
    const fields = { size, mtime: options.mtime, rid: options.rid }
    const message = { op: 'upload', name, ...definedOnly(fields) }
    return this.#requestWithBody(message, body, size, options.onProgress)
  }

  /** Make a new file; ERR_EXISTS if the name exists. */
  create(name: string, body: BodySource, options: BodyOptions = {}): Promise<WriteResult> {
    const message = { op: 'create', name, ...definedOnly({ rid: options.rid }) }
    return this.#requestWithBody(message, body, undefined, options.onProgress)
  }

  /** Replace a file's content. */
  write(name: string, body: BodySource, options: BodyOptions = {}): Promise<WriteResult> {
    const message = { op: 'write', name, ...definedOnly({ rid: options.rid }) }
    return this.#requestWithBody(message, body, undefined, options.onProgress)
  }

  /** Add to the end of a file. */
  append(name: string, body: BodySource, options: BodyOptions = {}): Promise<WriteResult> {
    const message = { op: 'append', name, ...definedOnly({ rid: options.rid }) }
    return this.#requestWithBody(message, body, undefined, options.onProgress)
  }

  /**
   * Stream a file into `sink`, pausing the socket while the sink is full. Resolves after the
   * body's SHA-256 checked out (ERR_INTEGRITY otherwise) and, unless `end: false`, the sink
   * finished. On failure the sink is left as it is: the caller destroys or discards it.
   */
  download(name: string, sink: Writable, options: DownloadOptions = {}): Promise<DownloadResult> {
    return new Promise<unknown>((resolve, reject) => {
      this.#enqueue({
        message: options.purpose
          ? { op: 'download', name, purpose: options.purpose }
          : { op: 'download', name },
        entry: { resolve, reject, download: { sink, options } },
      })
    }) as Promise<DownloadResult>
  }

  // ---- lifetime --------------------------------------------------------------------------------

  /** Be told when the connection ends. Returns a function that removes the listener. */
  onClose(listener: CloseListener): () => void {
    if (this.#closed) {
      const { error } = this.#closed
      queueMicrotask(() => listener(error))
      return () => {}
    }
    this.#closeListeners.add(listener)
    return () => this.#closeListeners.delete(listener)
  }

  /** Finish what is in flight, then close. New requests are refused from now on. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closing = true
    await this.#pipeline.whenIdle()
    if (this.#closed) return
    await new Promise<void>((resolve) => {
      this.#closeListeners.add(() => resolve())
      this.#socket.end()
      // A server that does not close its side promptly is cut off.
      setTimeout(() => this.#socket.destroy(), 2_000).unref()
    })
  }

  /** Close at once; everything pending fails with ERR_CONNECTION_CLOSED. */
  destroy(): void {
    this.#closing = true
    this.#fail(undefined, 'connection closed by the client')
  }

  // ---- sending ---------------------------------------------------------------------------------

  #request(message: Record<string, unknown>): Promise<unknown> {
    return new Promise((resolve, reject) => this.#enqueue({ message, entry: { resolve, reject } }))
  }

  #requestWithBody(
    message: Record<string, unknown>,
    source: BodySource,
    size: number | undefined,
    onProgress: Progress | undefined,
  ): Promise<WriteResult> {
    const total = size ?? (source instanceof Uint8Array ? source.length : undefined)
    return new Promise<unknown>((resolve, reject) => {
      this.#enqueue({ message, body: { source, total, onProgress }, entry: { resolve, reject } })
    }) as Promise<WriteResult>
  }

  #enqueue(job: SendJob): void {
    const op = job.message.op
    if (typeof op === 'string' && MUTATING_OPS.has(op) && job.message.rid === undefined)
      job.message = { ...job.message, rid: this.#ids?.next() }
    if (this.#closed || this.#closing) {
      const error =
        this.#closed?.error ?? new TandemError('ERR_CONNECTION_CLOSED', 'the connection is closing')
      job.entry.reject(error)
      return
    }
    this.#pipeline.enqueue(job)
  }

  /**
   * Fail the connection with ERR_TIMEOUT when, while a request awaits its answer (or a download
   * its body), no byte has moved either way for `timeoutMs`: a server that stopped (a frozen
   * process, a cut network that sends no reset) is then taken for lost, like one that closed.
   */
  #watchStalls(timeoutMs: number): void {
    if (timeoutMs <= 0) return
    let moved = -1
    let since = Date.now()
    const check = (): void => {
      const socket = this.#socket
      const waiting = this.#pipeline.awaitingCount > 0 || this.#receiving !== undefined
      // Bytes read, plus bytes written that the kernel took (the pending write is not counted).
      const now = socket.bytesRead + socket.bytesWritten - socket.writableLength
      if (!waiting || this.#pausedHere || now !== moved) {
        moved = now
        since = Date.now()
        return
      }
      if (Date.now() - since < timeoutMs) return
      const seconds = Math.round(timeoutMs / 100) / 10
      this.#fail(new TandemError('ERR_TIMEOUT', `no answer from ${this.address} in ${seconds} s`))
    }
    this.#stallWatch = setInterval(check, Math.max(10, Math.min(1_000, timeoutMs / 4))).unref()
  }

  // ---- receiving -------------------------------------------------------------------------------

  #onSocketData(chunk: Buffer): void {
    try {
      this.#decoder.push(chunk)
    } catch (err) {
      this.#fail(err instanceof TandemError ? err : new TandemError('ERR_BAD_FRAME', String(err)))
    }
  }

  #onPreamble(version: number): void {
    if (version !== PROTOCOL_VERSION) {
      throw new TandemError(
        'ERR_UNSUPPORTED_VERSION',
        `server ${this.address} speaks protocol version ${version}; this client speaks version ${PROTOCOL_VERSION}`,
      )
    }
  }

  #onControl(raw: unknown): void {
    const message = parseServerMessage(raw)
    switch (message.type) {
      case 'welcome':
        if (!this.#handshake)
          throw new TandemError('ERR_BAD_FRAME', 'unexpected welcome from the server')
        this.server = message.server
        this.sessionId = message.sessionId
        this.load = message.load
        this.#handshake.resolve()
        this.#handshake = undefined
        return
      case 'error':
        // The server says why it is about to close; that becomes the reason pending work fails.
        this.#serverError = TandemError.fromWire(message.error)
        return
      case 'event':
        // Listeners run outside the decoder, so a throwing listener cannot break the framing.
        for (const listener of this.#eventListeners) queueMicrotask(() => listener(message.event))
        return
      case 'response':
        return this.#onResponse(
          message.id,
          message.ok ? { result: message.result } : { error: message.error },
        )
    }
  }

  #onResponse(id: number, outcome: { result: unknown } | { error: WireError }): void {
    const head = this.#handshake || this.#receiving ? undefined : this.#pipeline.takeAnswered(id)
    if (!head) throw new TandemError('ERR_BAD_FRAME', `response ${id} arrived out of order`)
    if ('error' in outcome)
      return head.reject(head.localError ?? TandemError.fromWire(outcome.error))
    if (head.localError) return head.reject(head.localError)
    if (!head.download) return head.resolve(outcome.result)
    const { sink, options } = head.download
    this.#receiving = new DownloadReceiver(outcome.result as DownloadHeader, sink, options, head, {
      pause: () => {
        this.#pausedHere = true
        this.#socket.pause()
      },
      resume: () => {
        this.#pausedHere = false
        this.#socket.resume()
      },
    })
  }

  #onData(piece: Buffer): void {
    if (!this.#receiving)
      throw new TandemError('ERR_BAD_FRAME', 'data frame with no download in progress')
    this.#receiving.data(piece)
  }

  #onEnd(sha256: Buffer): void {
    const receiving = this.#receiving
    if (!receiving) throw new TandemError('ERR_BAD_FRAME', 'end frame with no download in progress')
    this.#receiving = undefined
    receiving.end(sha256)
  }

  #onSocketClose(): void {
    const cause = this.#socketError
    const clean = this.#closing && !cause && !this.#serverError
    if (clean && this.#pipeline.awaitingCount === 0) return this.#fail(undefined)
    if (this.#serverError) return this.#fail(this.#serverError)
    if (this.#handshake && cause) return this.#fail(unreachable(this.host, this.port, cause))
    const message = `connection to ${this.address} closed`
    this.#fail(new TandemError('ERR_CONNECTION_CLOSED', message, cause ? { cause } : undefined))
  }

  /**
   * End the connection and fail everything still waiting with `error`; undefined means this side
   * closed on purpose (close listeners get undefined, pending requests ERR_CONNECTION_CLOSED).
   */
  #fail(error: TandemError | undefined, why = 'connection closed'): void {
    if (this.#closed) return
    this.#closed = { error }
    clearInterval(this.#stallWatch)
    this.#socket.destroy()
    const failure = error ?? new TandemError('ERR_CONNECTION_CLOSED', why)
    this.#handshake?.reject(failure)
    this.#handshake = undefined
    this.#receiving?.abort(failure)
    this.#receiving = undefined
    this.#pipeline.failAll(failure)
    for (const listener of this.#closeListeners) listener(error)
    this.#closeListeners.clear()
    this.#eventListeners.clear()
  }
}

/** Connect to a tandem server and complete the handshake. */
export function connect(options: ConnectOptions): Promise<Connection> {
  return Connection.open(options)
}

function definedOnly(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined))
}
