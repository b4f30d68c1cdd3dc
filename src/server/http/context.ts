/**
 * What every route gets: the operations' context for the request's client, and the worker's
 * shared parts (the main-thread link, the heartbeat's cached status).
 */
import type { FastifyRequest } from 'fastify'
import type { StatusResult } from '../../protocol/index.js'
import type { OpsContext } from '../ops/context.js'
import type { MainLink } from './main-link.js'
import { idempotencyRid } from './request-parts.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The operations' context for this request's client (set by the admission hook). */
    ops: OpsContext
    clientId: string
  }
  interface FastifyContextConfig {
    /** false: the route takes no client slot (the page's files, the heartbeat, the API's description). */
    admission?: boolean
  }
}

export interface HttpParts {
  readonly main: MainLink
  /** The server's status, at most half a second old (for the heartbeat). */
  recentStatus(ops: OpsContext): Promise<StatusResult>
}

export function opsOf(request: FastifyRequest): OpsContext {
  return request.ops
}

/** The request's rid, from its Idempotency-Key header (request-parts.ts); ERR_BAD_REQUEST if malformed. */
export function ridOf(request: FastifyRequest): string | undefined {
  return idempotencyRid(request.headers['idempotency-key'], request.clientId)
}
