/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies of answers, checked by the tests */
/**
 * Talking HTTP to a test server: requests through Node's fetch (undici) that resolve with the
 * whole answer, requests through node:http sent byte for byte as written (paths fetch would
 * normalise, bodies streamed at the test's pace), JSON error assertions, SHA-256 and ETags, and a
 * Server-Sent Events reader parsed from the response body.
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import { expect } from 'vitest'
import { registerCleanup } from './cleanup.js'
import { deadline, waitFor, type Truthy } from './wait-for.js'

/** The header that names the client (the `ClientId` query parameter is the other way). */
export const CLIENT_ID_HEADER = 'X-Tandem-Client-Id'
const REQUEST_TIMEOUT_MS = 20_000

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex')
}

export function sha256File(file: string): string {
  return sha256(readFileSync(file))
}

/** The strong ETag the contract promises: the SHA-256 hex of the content, quoted. */
export function etagOf(bytes: Uint8Array | string): string {
  return `"${sha256(bytes)}"`
}

/** `Content-Digest: sha-256=:<base64>:` (RFC 9530) of `bytes`. */
export function contentDigest(bytes: Uint8Array | string): string {
  return `sha-256=:${createHash('sha256').update(bytes).digest('base64')}:`
}

/** A name as one URL path segment: every `/` as `%2F`. */
export function encodeName(name: string): string {
  return encodeURIComponent(name)
}

export interface HttpReply {
  status: number
  headers: Headers
  body: Buffer
  text: string
  /** The body parsed as JSON (throws with the body in the message if it is not JSON). */
  json<T = any>(): T
}

export interface HttpOptions {
  method?: string
  headers?: Record<string, string>
  body?: Uint8Array | string | FormData | Blob
  /** Sent as X-Tandem-Client-Id. */
  clientId?: string
  /** A JSON body (Content-Type application/json). */
  json?: unknown
  timeoutMs?: number
}

/** One request through fetch; resolves once the whole body has arrived. */
export async function httpRequest(
  base: string,
  path: string,
  options: HttpOptions = {},
): Promise<HttpReply> {
  const headers: Record<string, string> = { ...options.headers }
  if (options.clientId !== undefined) headers[CLIENT_ID_HEADER] = options.clientId
  let body = options.body
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json'
    body = JSON.stringify(options.json)
  }
  // fetch would label a string text/plain: say what the bytes are unless the test says otherwise.
  const hasType = Object.keys(headers).some((key) => key.toLowerCase() === 'content-type')
  if (!hasType && (typeof body === 'string' || body instanceof Uint8Array))
    headers['content-type'] = 'application/octet-stream'
  const timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS
  const method = options.method ?? 'GET'
  const response = await fetch(base + path, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
    signal: AbortSignal.timeout(timeoutMs),
  })
  const buffer = Buffer.from(await response.arrayBuffer())
  return replyOf(response.status, response.headers, buffer, `${method} ${path}`)
}

function replyOf(status: number, headers: Headers, body: Buffer, what: string): HttpReply {
  const text = body.toString('utf8')
  return {
    status,
    headers,
    body,
    text,
    json() {
      try {
        return JSON.parse(text)
      } catch {
        throw new Error(`${what} answered ${status} with a body that is not JSON: ${text}`)
      }
    },
  }
}

export const get = (base: string, path: string, options: HttpOptions = {}) =>
  httpRequest(base, path, { ...options, method: 'GET' })

/**
 * Expect the contract's JSON error: `status`, `{"error":{"code":code,"message":"…"}}`.
 * Returns the message.
 */
export function expectError(reply: HttpReply, status: number, code: string): string {
  const summary = `${reply.status} ${reply.text.slice(0, 300)}`
  expect(reply.status, `expected ${status} ${code}, got ${summary}`).toBe(status)
  expect(reply.headers.get('content-type') ?? '', summary).toMatch(/^application\/json/)
  const body = reply.json<{ error?: { code?: unknown; message?: unknown } }>()
  expect(body.error?.code, summary).toBe(code)
  expect(typeof body.error?.message, summary).toBe('string')
  return body.error!.message as string
}

/** Expect a 200 (or `status`) and return the JSON body. */
export function expectJson<T = any>(reply: HttpReply, status = 200): T {
  expect(reply.status, `expected ${status}, got ${reply.status} ${reply.text.slice(0, 300)}`).toBe(
    status,
  )
  return reply.json<T>()
}

// ---- node:http: the bytes as written -------------------------------------------------------

export interface RawReply {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
  text: string
  json<T = any>(): T
}

function rawReplyOf(res: http.IncomingMessage, body: Buffer): RawReply {
  const text = body.toString('utf8')
  return {
    status: res.statusCode ?? 0,
    headers: res.headers,
    body,
    text,
    json() {
      try {
        return JSON.parse(text)
      } catch {
        throw new Error(`answered ${res.statusCode} with a body that is not JSON: ${text}`)
      }
    },
  }
}

/** The same assertion as expectError, for a RawReply. */
export function expectRawError(reply: RawReply, status: number, code: string): string {
  const summary = `${reply.status} ${reply.text.slice(0, 300)}`
  expect(reply.status, `expected ${status} ${code}, got ${summary}`).toBe(status)
  expect(String(reply.headers['content-type'] ?? ''), summary).toMatch(/^application\/json/)
  const body = reply.json<{ error?: { code?: unknown; message?: unknown } }>()
  expect(body.error?.code, summary).toBe(code)
  expect(typeof body.error?.message, summary).toBe('string')
  return body.error!.message as string
}

export interface RawOptions {
  method?: string
  /** Sent exactly as given (no normalisation of `..`, `//` or percent escapes). */
  path: string
  headers?: Record<string, string | number>
  body?: Uint8Array | string
  timeoutMs?: number
}

/** One request through node:http on its own connection, the path sent verbatim. */
export function rawRequest(base: string, options: RawOptions): Promise<RawReply> {
  const streaming = startRequest(base, options)
  if (options.body !== undefined) streaming.req.write(options.body)
  streaming.req.end()
  return deadline(
    streaming.response,
    options.timeoutMs ?? REQUEST_TIMEOUT_MS,
    `${options.method ?? 'GET'} ${options.path}`,
  )
}

export interface StreamingRequest {
  req: http.ClientRequest
  /** The answer; rejects if the connection fails or is destroyed first. */
  response: Promise<RawReply>
  /** Write a piece of the body, waiting for drain when the socket asks to. */
  write(chunk: Uint8Array | string): Promise<void>
}

/**
 * Open a request and send its headers, leaving the body to the test: write pieces at its pace,
 * then `req.end()` — or `req.destroy()` to break it off.
 */
export function startRequest(base: string, options: RawOptions): StreamingRequest {
  const url = new URL(base)
  const req = http.request({
    host: url.hostname,
    port: Number(url.port),
    method: options.method ?? 'GET',
    path: options.path,
    headers: options.headers,
    agent: false,
  })
  registerCleanup(() => void req.destroy())
  const response = new Promise<RawReply>((resolve, reject) => {
    req.once('error', reject)
    req.once('response', (res) => {
      const pieces: Buffer[] = []
      res.on('data', (piece: Buffer) => pieces.push(piece))
      res.once('end', () => resolve(rawReplyOf(res, Buffer.concat(pieces))))
      res.once('error', reject)
    })
  })
  // A test that breaks the request off awaits nothing; the rejection is expected.
  response.catch(() => {})
  req.flushHeaders()
  const write = (chunk: Uint8Array | string) =>
    new Promise<void>((resolve, reject) => {
      const ok = req.write(chunk, (err) => (err ? reject(err) : undefined))
      if (ok) resolve()
      else req.once('drain', resolve)
    })
  return { req, response, write }
}

/** A multipart/form-data body built by hand (for malformed forms fetch would never send). */
export function multipartBody(
  boundary: string,
  parts: { name: string; filename?: string; content: string | Buffer }[],
  options: { close?: boolean } = {},
): Buffer {
  const pieces: Buffer[] = []
  for (const part of parts) {
    const disposition =
      `form-data; name="${part.name}"` +
      (part.filename === undefined ? '' : `; filename="${part.filename}"`)
    pieces.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: ${disposition}\r\n` +
          (part.filename === undefined ? '' : 'Content-Type: application/octet-stream\r\n') +
          '\r\n',
      ),
      Buffer.from(part.content),
      Buffer.from('\r\n'),
    )
  }
  if (options.close ?? true) pieces.push(Buffer.from(`--${boundary}--\r\n`))
  return Buffer.concat(pieces)
}

// ---- Server-Sent Events ---------------------------------------------------------------------

export interface SseEvent {
  id: string | undefined
  event: string | undefined
  data: string
}

export interface EventStream {
  status: number
  headers: Headers
  /** Every event received so far, in order. */
  readonly events: SseEvent[]
  /** Comment lines received (`: keepalive`). */
  readonly comments: string[]
  /** The stream has ended (the server closed it, or close()). */
  readonly ended: boolean
  /** The body when the answer was not 200 (an error's JSON). */
  errorBody: string | undefined
  /** The change-log events (`event: change`), parsed. */
  changes(): Record<string, unknown>[]
  /** Wait until `predicate` holds of the events so far. */
  waitFor<T>(
    predicate: (events: SseEvent[]) => T,
    timeoutMs?: number,
    what?: string,
  ): Promise<Truthy<T>>
  close(): void
}

export interface EventStreamOptions {
  clientId?: string
  lastEventId?: string | number
  since?: number
  headers?: Record<string, string>
}

/** GET /api/v1/events and parse the stream as it arrives (fetch's body, read by hand). */
export async function openEvents(
  base: string,
  options: EventStreamOptions = {},
): Promise<EventStream> {
  const headers: Record<string, string> = { accept: 'text/event-stream', ...options.headers }
  if (options.clientId !== undefined) headers[CLIENT_ID_HEADER] = options.clientId
  if (options.lastEventId !== undefined) headers['last-event-id'] = String(options.lastEventId)
  const query = options.since === undefined ? '' : `?since=${options.since}`
  const abort = new AbortController()
  const response = await deadline(
    fetch(`${base}/api/v1/events${query}`, { headers, signal: abort.signal }),
    REQUEST_TIMEOUT_MS,
    'the event stream to answer',
  )
  const events: SseEvent[] = []
  const comments: string[] = []
  let ended = false
  const stream: EventStream = {
    status: response.status,
    headers: response.headers,
    events,
    comments,
    get ended() {
      return ended
    },
    errorBody: undefined,
    changes: () =>
      events
        .filter((e) => e.event === 'change')
        .map((e) => JSON.parse(e.data) as Record<string, unknown>),
    waitFor: (predicate, timeoutMs = 10_000, what = 'events') =>
      waitFor(() => predicate(events), { timeoutMs, intervalMs: 10, what }),
    close: () => {
      ended = true
      abort.abort()
    },
  }
  registerCleanup(() => stream.close())
  if (response.status !== 200) {
    stream.errorBody = await response.text()
    ended = true
    return stream
  }
  void (async () => {
    const decoder = new TextDecoder()
    let buffered = ''
    let current: { id?: string; event?: string; data: string[] } = { data: [] }
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffered += decoder.decode(chunk, { stream: true })
        let newline: number
        while ((newline = buffered.search(/\r\n|\r|\n/)) >= 0) {
          const line = buffered.slice(0, newline)
          const width = buffered.startsWith('\r\n', newline) ? 2 : 1
          buffered = buffered.slice(newline + width)
          if (line === '') {
            if (current.data.length > 0 || current.id !== undefined)
              events.push({ id: current.id, event: current.event, data: current.data.join('\n') })
            current = { data: [] }
          } else if (line.startsWith(':')) {
            comments.push(line.slice(1).trim())
          } else {
            const colon = line.indexOf(':')
            const field = colon < 0 ? line : line.slice(0, colon)
            let value = colon < 0 ? '' : line.slice(colon + 1)
            if (value.startsWith(' ')) value = value.slice(1)
            if (field === 'data') current.data.push(value)
            else if (field === 'id') current.id = value
            else if (field === 'event') current.event = value
          }
        }
      }
    } catch {
      // aborted, or the server closed the connection
    }
    ended = true
  })()
  return stream
}

/** RFC 8187 ext-value encoding: UTF-8, everything but attr-char percent-encoded. */
export function rfc8187(value: string): string {
  return encodeURIComponent(value).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  )
}

/**
 * Expect `Content-Disposition: attachment; filename*=UTF-8''<name>` (RFC 8187 encoding). A plain
 * `filename="…"` fallback beside it is allowed, as RFC 6266 suggests: printable ASCII without `"`
 * or `\` (the server may replace other characters in it).
 */
export function expectAttachment(reply: HttpReply, name: string): void {
  const value = reply.headers.get('content-disposition') ?? ''
  expect(value, value).toMatch(/^attachment; /)
  const extended = / filename\*=([^;]*)$/.exec(value)
  expect(extended?.[1], value).toBe(`UTF-8''${rfc8187(name)}`)
  const plain = /; filename="([^"]*)"/.exec(value)
  expect(value.replace(/; filename="[^"]*"/, ''), value).toBe(
    `attachment; filename*=${extended?.[1]}`,
  )
  if (plain) {
    expect(plain[1], value).toMatch(/^[\x20-\x7e]*$/)
    expect(plain[1], value).not.toMatch(/["\\]/)
  }
}

/** Listen on a free loopback port, closed (connections too) at the test's cleanup: its HOST:PORT. */
export async function listenForTest(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  registerCleanup(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  return `127.0.0.1:${(server.address() as { port: number }).port}`
}

/** HOST:PORT of a loopback port nothing listens on (it was free a moment ago). */
export async function deadPort(): Promise<string> {
  const server = http.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return `127.0.0.1:${port}`
}
