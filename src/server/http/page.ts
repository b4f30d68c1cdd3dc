/**
 * The web page: `GET /` is web/index.html and `GET /assets/<file>` the other files of web/ (the
 * page's modules, its style sheet, its icon). The few files are read into memory once, when the
 * routes are registered, each with its ETag (a hash of its bytes); answers carry
 * `Cache-Control: no-cache`, so a browser asks again each time and gets a 304 while the file is
 * unchanged. The page's own files do not take a client slot (`admission: false`), and nothing on
 * the page comes from anywhere but this server (its Content-Security-Policy says so).
 */
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify'

/** web/ at the top of the package: from dist/server/http/page.js (or src/server/http/page.ts). */
export const WEB_DIR = fileURLToPath(new URL('../../../web/', import.meta.url))

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
}

/** Only this server: scripts, styles, images, fetch, XHR and the event stream. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

interface Asset {
  body: Buffer
  type: string
  etag: string
}

function asset(file: string): Asset {
  const body = readFileSync(file)
  const hash = createHash('sha256').update(body).digest('base64url').slice(0, 27)
  return {
    body,
    type: CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
    etag: `"${hash}"`,
  }
}

/** Every file under `dir`, by its '/'-separated path inside it. */
function readAssets(dir: string, prefix = '', into = new Map<string, Asset>()): Map<string, Asset> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) readAssets(full, `${prefix}${entry.name}/`, into)
    else if (entry.isFile()) into.set(`${prefix}${entry.name}`, asset(full))
  }
  return into
}

/** `If-None-Match` names this ETag (or `*`)? */
function notModified(request: FastifyRequest, etag: string): boolean {
  const header = request.headers['if-none-match']
  if (header === undefined) return false
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === etag || tag === '*')
}

function notFound(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(404).send({ error: { code: 'ERR_NOT_FOUND', message } })
}

function send(request: FastifyRequest, reply: FastifyReply, file: Asset): FastifyReply {
  reply
    .header('Cache-Control', 'no-cache')
    .header('ETag', file.etag)
    .header('X-Content-Type-Options', 'nosniff')
  if (file.type.startsWith('text/html'))
    reply
      .header('Content-Security-Policy', CONTENT_SECURITY_POLICY)
      .header('Referrer-Policy', 'same-origin')
  if (notModified(request, file.etag)) return reply.code(304).send()
  return reply.type(file.type).send(file.body)
}

/** Serve the page (`GET /`) and its files (`GET /assets/*`) from `webDir`. */
export function registerPage(app: FastifyInstance, webDir: string = WEB_DIR): void {
  const assets = existsSync(webDir) ? readAssets(webDir) : new Map<string, Asset>()
  const config = { admission: false }
  // Not part of the API: left out of the OpenAPI document.
  const schema = { hide: true }

  // HEAD too (the app does not add HEAD routes by itself); Node sends no body for a HEAD.
  const method: HTTPMethods[] = ['GET', 'HEAD']

  app.route({
    method,
    url: '/',
    config,
    schema,
    handler: (request, reply) => {
      const index = assets.get('index.html')
      if (!index)
        return notFound(reply, `the web page is not installed here (no index.html in ${webDir})`)
      return send(request, reply, index)
    },
  })

  app.route<{ Params: { '*': string } }>({
    method,
    url: '/assets/*',
    config,
    schema,
    handler: (request, reply) => {
      const name = request.params['*']
      const file = assets.get(name)
      if (!file) return notFound(reply, `no such file of the web page: /assets/${name}`)
      return send(request, reply, file)
    },
  })
}
