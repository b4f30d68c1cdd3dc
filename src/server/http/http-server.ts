/**
 * The HTTP worker's node:http server, without the fastify app: it is created and bound when the
 * worker starts, and the app (fastify, its plugins, zod schemas: ~20 MiB) is loaded only when the
 * first connection comes (worker.ts). The server's limits and its answer to requests Node's
 * parser refuses are set here, so that they hold before the app is loaded as after.
 */
import http, { type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { HttpWorkerData } from './messages.js'

/** Headers larger than this are refused by Node's parser (431). */
const MAX_HEADER_BYTES = 16 * 1024

type Limits = Pick<HttpWorkerData, 'headersTimeoutMs' | 'idleTimeoutMs' | 'maxConnections'>

export function createHttpServer(data: Limits): http.Server {
  const server = http.createServer({
    maxHeaderSize: MAX_HEADER_BYTES,
    headersTimeout: data.headersTimeoutMs,
    requestTimeout: 0, // a big upload takes as long as it takes; silence is the limit
    keepAliveTimeout: Math.min(5_000, data.idleTimeoutMs),
    connectionsCheckingInterval: Math.min(1_000, data.headersTimeoutMs),
  })
  server.setTimeout(data.idleTimeoutMs)
  server.maxConnections = data.maxConnections
  return server
}

/**
 * A request Node's parser refused before fastify saw it (headers too large or too slow, bad
 * syntax): answered in the same JSON as every error, then closed.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable) return void socket.destroy()
  const [status, code, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'ERR_TOO_LARGE', 'the request headers are over 16 KiB']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'ERR_TIMEOUT', 'the request headers did not arrive in time']
        : [400, 'ERR_BAD_REQUEST', 'the request is not valid HTTP/1.1']
  const body = errorBody(code, message)
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  )
}

/** A request the app could not be loaded for (worker.ts): ERR_INTERNAL, then closed. */
export function answerUnloaded(res: ServerResponse, err: unknown): void {
  const body = errorBody('ERR_INTERNAL', `the HTTP front end could not be loaded: ${String(err)}`)
  res.writeHead(500, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  })
  res.end(body)
}

/** The JSON every HTTP error is answered with. */
function errorBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } })
}
