/**
 * ERR_MOVED over HTTP (partial replication): the file is held at other members. The answer is a
 * 307 to the first holder that is up (this server's link to it is up now) and serves HTTP, with
 * the same path and query (307 keeps the method and the body, so a write or a delete is redone
 * there); ERR_PEER_UNREACHABLE when every such holder is known down. Or the holder's answer to the
 * same request, passed through this server: for a read with `--proxy-reads`, and always for the
 * web page's own script fetches (its viewer, and its Delete, Rename, Lock and Unlock), which a
 * browser would not follow to another origin. A proxied request says so to the holder
 * (X-Tandem-Proxied), which then never proxies in turn: a stale view answers 307, passed on.
 */
import { Readable } from 'node:stream'
import type { ReadableStream as WebStream } from 'node:stream/web'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Holder, WireError } from '../../protocol/index.js'
import { sendError } from './replies.js'

/** Set on a request this server proxies: the holder answers it itself, or with a 307. */
export const PROXIED_HEADER = 'x-tandem-proxied'

/** The request headers a proxied request passes on (what its answer depends on). */
const PASSED_ON = [
  'range',
  'if-range',
  'if-match',
  'if-none-match',
  'if-modified-since',
  'accept',
  'idempotency-key',
] as const

/** The holder's answer headers a proxied read passes back. */
const PASSED_BACK = [
  'content-type',
  'content-length',
  'content-range',
  'content-disposition',
  'accept-ranges',
  'etag',
  'last-modified',
  'cache-control',
  'x-content-type-options',
  'retry-after',
] as const

/**
 * How long a holder may take to start answering a proxied read. A write is not cut short (it
 * may wait there for a path lock, and an answer cut short would not say whether it was done).
 */
const PROXY_CONNECT_MS = 10_000

/** A fetch error meaning no connection was made: the request never reached that holder. */
const NOT_CONNECTED = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'UND_ERR_CONNECT_TIMEOUT',
])

/** The URL of the same request at `holder`'s HTTP API. */
export function holderUrl(holder: Holder & { http: string }, url: string): string {
  return `http://${holder.http}${url.startsWith('/') ? url : `/${url}`}`
}

/**
 * Proxied here (not redirected)? Never a request that was proxied already. A read with
 * `--proxy-reads`; and any request of the web page's own script (not a navigation) whose body can
 * be sent again (`body`: none, or the JSON the API parsed; a file body arrives as a stream, and
 * gets the 307).
 */
export function shouldProxy(
  method: string,
  headers: Record<string, string | string[] | undefined>,
  proxyReads: boolean,
  body?: unknown,
): boolean {
  if (headers[PROXIED_HEADER] !== undefined) return false
  const read = method === 'GET' || method === 'HEAD'
  if (read && proxyReads) return true
  if (!read && !canResend(body)) return false
  // A page's own script fetch: a browser follows no redirect to another origin for it (for a
  // write it would need CORS from the holder, and then sends `Origin: null`, which a write is
  // refused for). (Node's fetch says `sec-fetch-mode: cors` too, but no `sec-fetch-site`: a
  // program is answered 307 like curl.)
  const mode = headers['sec-fetch-mode']
  return headers['sec-fetch-site'] === 'same-origin' && (mode === 'cors' || mode === 'same-origin')
}

/** No body, or a parsed JSON one; not a stream (a file body being received) or raw bytes. */
function canResend(body: unknown): boolean {
  if (body === undefined) return true
  if (Buffer.isBuffer(body) || body instanceof Readable) return false
  return typeof (body as { pipe?: unknown } | null)?.pipe !== 'function'
}

/** Answer ERR_MOVED: 307 to a holder, or its answer proxied. */
export async function answerMoved(
  request: FastifyRequest,
  reply: FastifyReply,
  error: WireError,
  proxyReads: boolean,
): Promise<FastifyReply> {
  const holders = (error.holders ?? []).filter((h): h is Holder & { http: string } => !!h.http)
  if (holders.length === 0)
    return sendError(reply, {
      code: 'ERR_PEER_UNREACHABLE',
      message: `${error.message}; none of them serves HTTP`,
    })
  // Those known down last (the lookup lists them so already): a proxy tries them after the rest.
  const upFirst = [
    ...holders.filter((h) => h.up !== false),
    ...holders.filter((h) => h.up === false),
  ]
  if (shouldProxy(request.method, request.headers, proxyReads, request.body))
    return proxyTo(request, reply, upFirst, error)
  const target = holders.find((h) => h.up !== false)
  if (!target)
    return sendError(reply, {
      code: 'ERR_PEER_UNREACHABLE',
      message: `${error.message}; none of them is up now`,
    })
  const location = holderUrl(target, request.url)
  return reply
    .code(307)
    .header('location', location)
    .type('application/json; charset=utf-8')
    .send({ error: { code: error.code, message: error.message, holders: error.holders } })
}

/**
 * The first holder that answers, its answer streamed back as it is. The request goes as this
 * server got it, in the client's own name (X-Tandem-Client-Id: its lock, its Idempotency-Key's
 * request id). A read moves on to the next holder on any failure; a write only when no
 * connection could be made (else it may have been done there: said, not redone elsewhere).
 */
async function proxyTo(
  request: FastifyRequest,
  reply: FastifyReply,
  holders: readonly (Holder & { http: string })[],
  error: WireError,
): Promise<FastifyReply> {
  const read = request.method === 'GET' || request.method === 'HEAD'
  const headers: Record<string, string> = { [PROXIED_HEADER]: '1' }
  for (const name of PASSED_ON) {
    const value = request.headers[name]
    if (typeof value === 'string') headers[name] = value
  }
  const client = request.headers['x-tandem-client-id']
  if (typeof client === 'string') headers['x-tandem-client-id'] = client
  // Named by the address it came from: the holder would name it by this server's instead.
  else if (request.clientId) headers['x-tandem-client-id'] = request.clientId
  let body: string | undefined
  if (!read && request.body !== undefined) {
    body = JSON.stringify(request.body)
    headers['content-type'] = 'application/json'
  }
  const failures: string[] = []
  for (const holder of holders) {
    const abort = new AbortController()
    const timer = read ? setTimeout(() => abort.abort(), PROXY_CONNECT_MS) : undefined
    // The client going away ends the holder's answer too.
    const onClose = (): void => abort.abort()
    reply.raw.once('close', onClose)
    let answer: Response
    try {
      answer = await fetch(holderUrl(holder, request.url), {
        method: request.method,
        headers,
        ...(body === undefined ? {} : { body }),
        redirect: 'manual',
        signal: abort.signal,
      })
    } catch (err) {
      reply.raw.off('close', onClose)
      failures.push(`${holder.name}: ${(err as Error).message}`)
      if (read || NOT_CONNECTED.has(causeCode(err))) continue
      return sendError(reply, {
        code: 'ERR_PEER_UNREACHABLE',
        message: `${error.message}; the request was passed on to ${holder.name}, which did not answer (${failures.join('; ')}): it may or may not have been done there`,
      })
    } finally {
      clearTimeout(timer)
    }
    reply.code(answer.status)
    for (const name of PASSED_BACK) {
      const value = answer.headers.get(name)
      if (value !== null) reply.header(name, value)
    }
    const location = answer.headers.get('location')
    if (location !== null) reply.header('location', location)
    if (request.method === 'HEAD' || answer.body === null) {
      await answer.body?.cancel().catch(() => {})
      return reply.send()
    }
    return reply.send(Readable.fromWeb(answer.body as WebStream))
  }
  return sendError(reply, {
    code: 'ERR_PEER_UNREACHABLE',
    message: `${error.message}, and none of them answered (${failures.join('; ')})`,
  })
}

/** The system error code under a fetch failure (`TypeError: fetch failed`, cause ECONNREFUSED). */
function causeCode(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown } } | null)?.cause
  return typeof cause?.code === 'string' ? cause.code : ''
}
