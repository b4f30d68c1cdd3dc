/**
 * What the HTTP front end reads out of a request, as pure functions: the client id, a name from
 * the raw path, a byte range, entity tags, a Content-Digest. Each bad input is a TandemError with
 * the code the catalogue gives it.
 */
import { TandemError, normalizeName } from '../../protocol/index.js'

const CONTROL = /\p{Cc}/u

/** The client id of X-Tandem-Client-Id or ?ClientId=, as a binary client's (1–128 characters). */
export function clientIdOf(
  header: string | string[] | undefined,
  query: unknown,
  address: string,
): string {
  const given = Array.isArray(header)
    ? header[0]
    : (header ?? (typeof query === 'string' ? query : undefined))
  if (given === undefined || given === '') return `http@${address}`
  if (given.length > 128 || CONTROL.test(given))
    throw new TandemError(
      'ERR_BAD_REQUEST',
      'the client id must be 1 to 128 characters, none of them control characters',
    )
  return given
}

/** An Idempotency-Key: 1 to 128 of these (base64, base64url, UUIDs, counters), quotes optional. */
const IDEMPOTENCY_KEY = /^[A-Za-z0-9._~+/=-]{1,128}$/

/**
 * The request id of an HTTP request with an `Idempotency-Key` header: `http-<client>:<key>`, the
 * client being the request's own (X-Tandem-Client-Id, else `http@<address>`), so that two clients'
 * keys never meet and a binary client's sequence numbers never meet a key. Without the header:
 * none (the request is applied as it comes).
 */
export function idempotencyRid(
  header: string | string[] | undefined,
  clientId: string,
): string | undefined {
  if (header === undefined) return undefined
  const given = (Array.isArray(header) ? header.join(',') : header).trim()
  const key =
    given.length >= 2 && given.startsWith('"') && given.endsWith('"') ? given.slice(1, -1) : given
  if (!IDEMPOTENCY_KEY.test(key))
    throw new TandemError(
      'ERR_BAD_REQUEST',
      'an Idempotency-Key is 1 to 128 letters, digits or . _ ~ + / = - (optionally in double quotes)',
    )
  return `http-${clientId}:${key}`
}

/**
 * The name in the raw path after `prefix` (e.g. '/download/'), decoded once: `%2F` and a plain `/`
 * both separate folders. A name that still looks percent-encoded after that one decoding (a
 * double-encoded `%252E`) is refused: no layer below decodes again, but such a name is far more
 * likely an attack than a file.
 */
export function nameFromPath(rawUrl: string, prefix: string): string {
  const path = rawPath(rawUrl)
  if (!path.startsWith(prefix)) throw new TandemError('ERR_BAD_PATH', 'no name in the path')
  return decodeName(path.slice(prefix.length))
}

/** The two names of `<prefix><old>/<new>`; each must encode its own slashes as %2F. */
export function twoNamesFromPath(rawUrl: string, prefix: string): [string, string] {
  const path = rawPath(rawUrl)
  const parts = path.slice(prefix.length).split('/')
  if (!path.startsWith(prefix) || parts.length !== 2)
    throw new TandemError(
      'ERR_BAD_PATH',
      'give two names, /rename/<old>/<new>, with the slashes inside each name written as %2F',
    )
  return [decodeName(parts[0]!), decodeName(parts[1]!)]
}

export function rawPath(rawUrl: string): string {
  const q = rawUrl.indexOf('?')
  return q === -1 ? rawUrl : rawUrl.slice(0, q)
}

export function decodeName(encoded: string): string {
  let name: string
  try {
    name = decodeURIComponent(encoded)
  } catch {
    throw new TandemError('ERR_BAD_PATH', 'the name is not valid percent-encoded UTF-8')
  }
  if (/%[0-9A-Fa-f]{2}/.test(name))
    throw new TandemError('ERR_BAD_PATH', 'the name is percent-encoded twice')
  if (name === '') throw new TandemError('ERR_BAD_PATH', 'no name in the path')
  return normalizeName(name)
}

/** A byte range of a file of `size` bytes: inclusive `start`–`end`. */
export interface ByteRange {
  start: number
  end: number
}

/**
 * The one range of a Range header (RFC 9110 §14): undefined when there is none to honour (no
 * header, another unit, several ranges: the whole file is sent); ERR_RANGE when it lies past the
 * end.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | undefined {
  if (header === undefined) return undefined
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header)
  if (!match) return undefined // several ranges or another unit: answered with the whole file
  const [, first, last] = match
  if (first === '' && last === '') return undefined
  if (first === '') {
    const suffix = Number(last)
    if (suffix === 0 || size === 0) throw rangeError(size)
    return { start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(first)
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1)
  if (start >= size || (last !== '' && Number(last) < start)) throw rangeError(size)
  return { start, end }
}

function rangeError(size: number): TandemError {
  return new TandemError('ERR_RANGE', `the range is not inside the file (${size} bytes)`)
}

/** An entity tag of content with this SHA-256 (strong). */
export function etagOf(sha256: string): string {
  return `"${sha256}"`
}

/**
 * The SHA-256s named by an If-Match / If-None-Match header, or '*'. If-Match compares strongly
 * (a weak tag `W/"hex"` never matches); If-None-Match weakly (RFC 9110 §13.1.2): `weak` true.
 */
export function parseTags(header: string | undefined, weak = false): string[] | '*' | undefined {
  if (header === undefined) return undefined
  if (header.trim() === '*') return '*'
  const tags: string[] = []
  for (const match of header.matchAll(/(W\/)?"([^"]*)"/g))
    if (weak || !match[1]) tags.push(match[2]!)
  return tags
}

/** The SHA-256 of a `Content-Digest: sha-256=:<base64>:` header (RFC 9530), if it has one. */
export function digestOf(header: string | undefined): Buffer | undefined {
  if (header === undefined) return undefined
  const match = /(?:^|,)\s*sha-256\s*=\s*:([A-Za-z0-9+/=]+):/i.exec(header)
  if (!match) return undefined
  const digest = Buffer.from(match[1]!, 'base64')
  if (digest.length !== 32)
    throw new TandemError('ERR_BAD_REQUEST', 'Content-Digest: a sha-256 digest is 32 bytes')
  return digest
}

/** `attachment` with the last part of the name (RFC 6266, UTF-8 by RFC 8187). */
export function contentDisposition(name: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1)
  const ascii = base.replace(/[^\x20-\x7e]|["\\%]/g, '_')
  // RFC 8187's attr-char leaves out ' ( ) * ! too, which encodeURIComponent keeps.
  const encoded = encodeURIComponent(base).replace(
    /['()*!]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  )
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** Names and addresses of this machine's loopback interface, as a Host header gives them. */
function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase()
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '[::1]' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
  )
}

/** The host name of a Host header (`name:port`, `[v6]:port`). */
function hostnameOf(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1)
  const colon = host.lastIndexOf(':')
  return colon === -1 ? host : host.slice(0, colon)
}

/**
 * Why a request must be refused as another site's (ERR_CROSS_SITE), if it must. A browser lets
 * any page send simple cross-origin POSTs (a form, `text/plain`) without asking: a write whose
 * Origin is not this server's own is refused, so another site cannot change files through the
 * user's browser. A server on loopback answers only to loopback names, so a page cannot reach it
 * by a name of its own that resolves to 127.0.0.1 (DNS rebinding). Tools that are not browsers
 * send no Origin and are not affected.
 */
export function crossSiteRefusal(
  method: string,
  headers: Record<string, string | string[] | undefined>,
  serverOnLoopback: boolean,
): string | undefined {
  const host = typeof headers.host === 'string' ? headers.host : undefined
  if (serverOnLoopback && host !== undefined && !isLoopbackHost(hostnameOf(host)))
    return `this server answers to localhost and 127.0.0.1, not to '${host}'`
  if (SAFE_METHODS.has(method)) return undefined
  if (headers['sec-fetch-site'] === 'cross-site') return 'a write from another site is refused'
  const origin = headers.origin
  if (origin === undefined) return undefined
  let originHost: string | undefined
  try {
    originHost = typeof origin === 'string' && origin !== 'null' ? new URL(origin).host : undefined
  } catch {
    originHost = undefined
  }
  if (originHost === undefined || host === undefined || originHost !== host.toLowerCase())
    return `a write from another site's page (${String(origin)}) is refused`
  return undefined
}
