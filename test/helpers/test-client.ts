/**
 * A small protocol client over rawConnect, for integration tests: handshake, pipelined requests
 * answered in order, bodies sent with their SHA-256, downloads collected and checked. It returns
 * every answer as data (`{ ok, result | error }`) so that tests can assert on codes.
 */
import { createHash } from 'node:crypto'
import {
  encodeData,
  encodeEnd,
  Limits,
  type DeleteResult,
  type DownloadHeader,
  type FileRow,
  type ListResult,
  type LogResult,
  type LogEntry,
  type RenameResult,
  type StatusResult,
  type WireError,
  type WriteResult,
} from '../../src/protocol/index.js'
import { rawConnect, type RawConnection } from './raw-socket.js'

export interface Reply<T = unknown> {
  ok: boolean
  result?: T
  error?: WireError
  /** A download's body (when ok). */
  body?: Buffer
  /** A download's end frame matched the SHA-256 of the bytes received. */
  bodyIntact?: boolean
}

/**
 * A body to send: bytes, chunks produced on the fly (for bodies too big to hold), or `{ raw }`:
 * frames sent verbatim (for bad bodies: a wrong SHA-256, a missing end frame).
 */
export type BodySource =
  Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array> | { raw: Uint8Array[] }

interface Pending {
  id: number
  op: string
  resolve: (reply: Reply) => void
}

export interface ConnectOptions {
  clientId?: string
  host?: string
  /** The source address (another loopback address stands for another host). */
  localAddress?: string
}

export type ConnectOutcome =
  { client: TestClient; error?: undefined } | { client?: undefined; error: WireError }

export class TestClient {
  readonly conn: RawConnection
  readonly welcome: Record<string, unknown>
  /** Entries pushed by `log` with follow. */
  readonly events: LogEntry[] = []
  /** A connection-level error the server sent before closing. */
  connectionError: WireError | undefined
  #nextId = 1
  #pending: Pending[] = []
  #sending: Promise<void> = Promise.resolve()
  #download: { pending: Pending; result: unknown; pieces: Buffer[] } | undefined
  /** The read loop has finished: the connection is gone. */
  #ended = false

  private constructor(conn: RawConnection, welcome: Record<string, unknown>) {
    this.conn = conn
    this.welcome = welcome
    void this.#readLoop()
  }

  /** Connect and say hello; resolves with the client, or with the error the server answered. */
  static async tryConnect(port: number, options: ConnectOptions = {}): Promise<ConnectOutcome> {
    const conn = await rawConnect(
      port,
      options.host,
      options.localAddress === undefined ? {} : { localAddress: options.localAddress },
    )
    await conn.sendPreamble()
    await conn.sendControl({
      type: 'hello',
      role: 'client',
      id: options.clientId ?? `test-${process.pid}`,
    })
    const message = await conn.nextControl(15_000)
    if (message.type === 'welcome') return { client: new TestClient(conn, message) }
    conn.destroy()
    if (message.type === 'error') return { error: message.error as WireError }
    throw new Error(`unexpected first message ${JSON.stringify(message)}`)
  }

  static async connect(port: number, options: ConnectOptions = {}): Promise<TestClient> {
    const outcome = await TestClient.tryConnect(port, options)
    if (outcome.error)
      throw new Error(`connection refused: ${outcome.error.code}: ${outcome.error.message}`)
    return outcome.client
  }

  /** Send one request (with its body for body ops) and resolve with the answer. */
  call<T = unknown>(
    op: string,
    fields: Record<string, unknown> = {},
    body?: BodySource,
  ): Promise<Reply<T>> {
    if (this.#ended) return Promise.resolve({ ok: false, error: this.#closedError() })
    const id = this.#nextId++
    const answer = new Promise<Reply>((resolve) => this.#pending.push({ id, op, resolve }))
    const send = this.#sending.then(async () => {
      await this.conn.sendControl({ id, op, ...fields })
      if (body !== undefined) await sendBody(this.conn, body)
    })
    // A failed send means the socket closed: the read loop then fails every pending answer.
    this.#sending = send.catch(() => this.conn.destroy())
    return answer as Promise<Reply<T>>
  }

  list() {
    return this.call<ListResult>('list')
  }
  stat(name: string) {
    return this.call<FileRow>('stat', { name })
  }
  download(name: string) {
    return this.call<DownloadHeader>('download', { name })
  }
  upload(name: string, body: BodySource, extra: { size?: number; mtime?: number } = {}) {
    return this.call<WriteResult>('upload', { name, ...extra }, body)
  }
  create(name: string, body: BodySource) {
    return this.call<WriteResult>('create', { name }, body)
  }
  write(name: string, body: BodySource) {
    return this.call<WriteResult>('write', { name }, body)
  }
  append(name: string, body: BodySource) {
    return this.call<WriteResult>('append', { name }, body)
  }
  rename(from: string, to: string) {
    return this.call<RenameResult>('rename', { from, to })
  }
  delete(name: string, options: { recursive?: boolean } = {}) {
    return this.call<DeleteResult>('delete', { name, ...options })
  }
  log(fields: { limit?: number; follow?: boolean } = {}) {
    return this.call<LogResult>('log', fields)
  }
  status() {
    return this.call<StatusResult>('status')
  }

  get pendingCount(): number {
    return this.#pending.length
  }

  /** Close our side and wait for the socket to close. */
  async close(): Promise<void> {
    this.conn.end()
    await Promise.race([this.conn.closed, new Promise((resolve) => setTimeout(resolve, 2_000))])
    this.conn.destroy()
  }

  async #readLoop(): Promise<void> {
    try {
      for (;;) this.#onFrame(await this.conn.next(Infinity))
    } catch {
      // closed or undecodable: everything still pending fails below
    }
    this.#ended = true
    const error = this.#closedError()
    if (this.#download) this.#download.pending.resolve({ ok: false, error })
    this.#download = undefined
    for (const pending of this.#pending.splice(0)) pending.resolve({ ok: false, error })
  }

  #closedError(): WireError {
    return this.connectionError ?? { code: 'ERR_CONNECTION_CLOSED', message: 'connection closed' }
  }

  #onFrame(frame: Awaited<ReturnType<RawConnection['next']>>): void {
    if (frame.kind === 'data' || frame.kind === 'end') return this.#onBodyFrame(frame)
    if (frame.kind !== 'control') return
    const message = frame.message
    if (message.type === 'event') {
      this.events.push(message.event as LogEntry)
    } else if (message.type === 'error') {
      this.connectionError = message.error as WireError
    } else if (message.type === 'response') {
      const index = this.#pending.findIndex((p) => p.id === message.id)
      if (index !== 0)
        throw new Error(`response to ${String(message.id)} out of order (position ${index})`)
      const pending = this.#pending.shift()!
      if (message.ok === true && pending.op === 'download') {
        this.#download = { pending, result: message.result, pieces: [] }
      } else {
        pending.resolve(
          message.ok === true
            ? { ok: true, result: message.result }
            : { ok: false, error: message.error as WireError },
        )
      }
    }
  }

  #onBodyFrame(frame: { kind: 'data'; bytes: Buffer } | { kind: 'end'; sha256: Buffer }): void {
    const download = this.#download
    if (!download) throw new Error(`a ${frame.kind} frame outside a download`)
    if (frame.kind === 'data') {
      download.pieces.push(frame.bytes)
      return
    }
    this.#download = undefined
    const body = Buffer.concat(download.pieces)
    const bodyIntact = createHash('sha256').update(body).digest().equals(frame.sha256)
    download.pending.resolve({ ok: true, result: download.result, body, bodyIntact })
  }
}

/** Data frames of at most the usual chunk size, then the end frame with the SHA-256. */
async function sendBody(conn: RawConnection, body: BodySource): Promise<void> {
  if ('raw' in body) return conn.send(...body.raw)
  const hash = createHash('sha256')
  const sendChunk = async (bytes: Uint8Array) => {
    for (let offset = 0; offset < bytes.length; offset += Limits.dataChunk) {
      const piece = bytes.subarray(offset, offset + Limits.dataChunk)
      hash.update(piece)
      await conn.send(...encodeData(piece))
    }
  }
  if (body instanceof Uint8Array) await sendChunk(body)
  else for await (const chunk of body) await sendChunk(chunk)
  await conn.send(encodeEnd(hash.digest()))
}
