/**
 * Messages between the main thread and the HTTP worker, over the worker's own port. The main
 * thread's services (locks, log, queries, user locks) use the session workers' messages; these
 * add admission (a client slot per HTTP client) and the worker's lifecycle.
 */
import type { FromWorker, ToWorker } from '../workers/messages.js'
import type { Batch } from '../workers/request-reply.js'

/** What the HTTP worker is started with. */
export interface HttpWorkerData {
  serverName: string
  root: string
  stateDir: string
  host: string
  port: number
  idleTimeoutMs: number
  headersTimeoutMs: number
  maxConnections: number
  shutdownGraceMs: number
  /** At a secondary, the primary's control port: writes are forwarded there (roles). */
  primary: string | null
  /** HTTP reads of a file held at other members are proxied from one (--proxy-reads), not 307. */
  proxyReads: boolean
}

/** Worker → main. */
export type FromHttpWorker =
  | FromWorker
  /** Several of these, in order (one postMessage per microtask). */
  | Batch<FromHttpWorker>
  /** `client` wants a slot (it has no request in flight yet). */
  | { t: 'admit'; req: number; client: string; address: string }
  /** `client` has no request in flight any more: its slot is free. */
  | { t: 'leave'; client: string }
  | { t: 'listening'; port: number }
  | { t: 'listen-failed'; message: string; code: string | undefined }
  /** The app could not be loaded (its requests are answered ERR_INTERNAL; tried again later). */
  | { t: 'app-failed'; message: string }

/**
 * Main → worker: a session worker's messages. (The answer to `admit` is a reply whose value is
 * undefined, or why not: a WireError, ERR_BUSY with retryAfterMs.)
 */
export type ToHttpWorker = ToWorker
