// The server's HTTP API (/api/v1/), as the page uses it: every request carries the page's client
// id, every error becomes an ApiError with the server's code and message, and a 503 ERR_BUSY
// (all client slots taken) is tried again after the Retry-After the server sent.

import { clientId } from './client-id.js'
import { showBusy } from './status.js'

const BASE = '/api/v1'
/** A busy server is asked again this many times before the error is shown. */
const BUSY_RETRIES = 20
/** When a 503 comes without Retry-After. */
const DEFAULT_RETRY_SECONDS = 1

/** An error the server answered (code and message from its JSON), or a network failure. */
export class ApiError extends Error {
  /**
   * @param {string} code e.g. ERR_NOT_FOUND; ERR_NETWORK when no answer came
   * @param {string} message
   * @param {number} status the HTTP status (0 without an answer)
   */
  constructor(code, message, status) {
    super(message)
    this.code = code
    this.status = status
  }
}

/** The URL of a file's bytes (also its download link). Folders' slashes are encoded too. */
export function fileUrl(name) {
  return `${BASE}/files/${encodeURIComponent(name)}`
}

/** The URL of a file's user lock. */
export function lockUrl(name) {
  return `${BASE}/locks/${encodeURIComponent(name)}`
}

/** The event stream's URL for this page's client id. */
export function eventsUrl() {
  return `${BASE}/events?ClientId=${encodeURIComponent(clientId())}`
}

/** Seconds to wait before asking a busy server again. */
export function retryAfterSeconds(header) {
  const seconds = Number(header)
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : DEFAULT_RETRY_SECONDS
}

/** Read an error answer: the server's JSON when it is there, else the status line. */
export async function errorOf(response) {
  const text = await response.text().catch(() => '')
  return errorFromBody(text, response.status, response.statusText)
}

/** An ApiError from an error answer's body text (shared with the uploads' XMLHttpRequest). */
export function errorFromBody(text, status, statusText = '') {
  try {
    const body = JSON.parse(text)
    if (body && body.error && typeof body.error.code === 'string')
      return new ApiError(body.error.code, String(body.error.message ?? ''), status)
  } catch {
    // not JSON: fall through
  }
  return new ApiError(`HTTP ${status}`, statusText || text.slice(0, 200), status)
}

/** Resolve after `seconds`, telling the person why the page waits. */
export function waitBusy(seconds, what) {
  showBusy(seconds, what)
  return new Promise((resolve) => setTimeout(resolve, seconds * 1000))
}

/**
 * fetch() against the API with the client id, retrying while the server is busy. Resolves with
 * the Response when it is ok (2xx, or 304); rejects with an ApiError otherwise.
 */
export async function request(path, options = {}, what = 'the request') {
  const headers = new Headers(options.headers)
  headers.set('X-Tandem-Client-Id', clientId())
  for (let attempt = 0; ; attempt++) {
    let response
    try {
      response = await fetch(path.startsWith('/') ? path : `${BASE}/${path}`, {
        ...options,
        headers,
      })
    } catch (err) {
      throw new ApiError('ERR_NETWORK', `no answer from the server (${err.message})`, 0)
    }
    if (response.ok || response.status === 304) return response
    const error = await errorOf(response)
    if (error.code === 'ERR_BUSY' && attempt < BUSY_RETRIES) {
      await waitBusy(retryAfterSeconds(response.headers.get('Retry-After')), what)
      continue
    }
    throw error
  }
}

/** A JSON request; resolves with the parsed answer. */
export async function json(path, options = {}, what) {
  const init = { ...options }
  if (init.body !== undefined && typeof init.body !== 'string') {
    init.body = JSON.stringify(init.body)
    init.headers = { 'Content-Type': 'application/json', ...init.headers }
  }
  const response = await request(path, init, what)
  return response.json()
}

export const api = {
  /** @returns {Promise<{files: object[]}>} */
  files: () => json(`${BASE}/files`, {}, 'the listing'),
  status: () => json(`${BASE}/status`, {}, 'the status'),
  log: (limit) => json(`${BASE}/log?limit=${limit}`, {}, 'the activity'),
  rename: (from, to) =>
    json(`${BASE}/rename`, { method: 'POST', body: { from, to } }, `renaming ${from}`),
  remove: (name) => json(fileUrl(name), { method: 'DELETE' }, `deleting ${name}`),
  lock: (name) => json(lockUrl(name), { method: 'POST', body: {} }, `locking ${name}`),
  unlock: (name) => json(lockUrl(name), { method: 'DELETE' }, `unlocking ${name}`),
}
