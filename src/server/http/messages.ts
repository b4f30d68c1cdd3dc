/**
 * Messages between the main thread and the HTTP worker, over the worker's own port. The main
 * thread's services (locks, log, queries, user locks) use the session workers' messages; these
 * add admission (a client slot per HTTP client) and the worker's lifecycle.
 */
import type { WireError } from '../../protocol/index.js'
import type { FromWorker, ToWorker } from '../workers/messages.js'

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
}

/** Worker → main. */
export type FromHttpWorker =
  | FromWorker
  /** `client` wants a slot (it has no request in flight yet). */
  | { t: 'admit'; req: number; client: string; address: string }
  /** `client` has no request in flight any more: its slot is free. */
  | { t: 'leave'; client: string }
  | { t: 'listening'; port: number }
  | { t: 'listen-failed'; message: string; code: string | undefined }

/** Main → worker. */
export type ToHttpWorker =
  | ToWorker
  /** The answer to `admit`: undefined, or why not (ERR_BUSY with retryAfterMs). */
  | { t: 'admitted'; req: number; refusal: WireError | undefined }
