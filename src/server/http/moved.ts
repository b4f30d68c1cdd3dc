/**
 * ERR_MOVED over HTTP (partial replication): the file is held at other members. The answer is a
 * 307 to the first holder that is up (this server's link to it is up now) and serves HTTP, with the
 * same path and query (307 keeps the method and the body, so a write or a delete is redone there);
 * ERR_PEER_UNREACHABLE when every such holder is known down. Or, for a read, a holder's answer streamed
 * through this server: with `--proxy-reads`, and always for the web page's own script fetch (its
 * viewer), which a browser would not follow to another origin. A proxied request says so to the holder
 * (X-Tandem-Proxied), which then never proxies in turn: a stale view answers 307, passed on.
 */
import { Readable } from 'node:stream'
import type { ReadableStream as WebStream } from 'node:stream/web'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Holder, WireError } from '../../protocol/index.js'
import { sendError } from './replies.js'

/** Set on a request this server proxies: the holder answers it itself, or with a 307. */
export const PROXIED_HEADER = 'x-tandem-proxied'

/** The request headers a proxied read passes on (what a download's answer depends on). */
const PASSED_ON = [
  'range',
  'if-range',
  'if-none-match',
  'if-modified-since',
  'accept',
  'x-tandem-client-id',
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

/** How long a holder may take to start answering a proxied read. */
const PROXY_CONNECT_MS = 10_000

/** The URL of the same request at `holder`'s HTTP API. */
export function holderUrl(holder: Holder & { http: string }, url: string): string {
  return `http://${holder.http}${url.startsWith('/') ? url : `/${url}`}`
}

/** Proxied here (not redirected)? Reads only, and never a request that was proxied already. */
export function shouldProxy(
  method: string,
  headers: Record<string, string | string[] | undefined>,
  proxyReads: boolean,
): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false
  if (headers[PROXIED_HEADER] !== undefined) return false
  if (proxyReads) return true
  // A page's own script fetch (not a navigation): a browser follows no redirect to another
  // origin for it. (Node's fetch says `sec-fetch-mode: cors` too, but no `sec-fetch-site`: a
  // program is answered 307 like curl.)
  const mode = headers['sec-fetch-mode']
  return headers['sec-fetch-site'] === 'same-origin' && (mode === 'cors' || mode === 'same-origin')
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
  if (shouldProxy(request.method, request.headers, proxyReads))
    return proxyRead(request, reply, upFirst, error)
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

/** The first holder that answers, its answer streamed back as it is. */
async function proxyRead(
  request: FastifyRequest,
  reply: FastifyReply,
  holders: readonly (Holder & { http: string })[],
  error: WireError,
): Promise<FastifyReply> {
  const headers: Record<string, string> = { [PROXIED_HEADER]: '1' }
  for (const name of PASSED_ON) {
    const value = request.headers[name]
    if (typeof value === 'string') headers[name] = value
  }
  const failures: string[] = []
  for (const holder of holders) {
    const abort = new AbortController()
    const timer = setTimeout(() => abort.abort(), PROXY_CONNECT_MS)
    // The client going away ends the holder's answer too.
    const onClose = (): void => abort.abort()
    reply.raw.once('close', onClose)
    let answer: Response
    try {
      answer = await fetch(holderUrl(holder, request.url), {
        method: request.method,
        headers,
        redirect: 'manual',
        signal: abort.signal,
      })
    } catch (err) {
      reply.raw.off('close', onClose)
      failures.push(`${holder.name}: ${(err as Error).message}`)
      continue
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
