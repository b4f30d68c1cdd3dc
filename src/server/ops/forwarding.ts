/**
 * Roles: what an operation at a secondary uses to have its write done by the primary. Every
 * mutating operation (upload, create, write, append, rename, delete, lock, unlock) checks
 * `ctx.forward` first; when it is set, the operation is sent to the primary as it came (its request
 * id `rid` included) and the primary's answer is the answer. Nothing is written here: this
 * server's disk changes only by mirroring from the primary. The link itself lives in
 * src/server/forward/ (ops/ knows only this interface).
 */
import {
  TandemError,
  type Request,
  type RequestBody,
  type WriteResult,
} from '../../protocol/index.js'
import type { BodyRequest } from './body.js'
import { hasConditions, type Conditions } from './conditions.js'
import type { OpsContext } from './context.js'

/** A request without a body, as sent to the primary (the link gives it an id of its own). */
export type ForwardedRequest =
  RequestBody<'rename'> | RequestBody<'delete'> | RequestBody<'lock'> | RequestBody<'unlock'>

/** The link from a secondary to its primary, for one client (its id is the client's). */
export interface Forwarder {
  /** The primary's address (HOST:PORT), for messages. */
  readonly primary: string
  /** Send a request without a body; resolves to the primary's result, rejects with its error. */
  call<T>(request: ForwardedRequest): Promise<T>
  /** Start a request with a body: its pieces follow through the returned ForwardedBody. */
  body(request: Omit<BodyRequest, 'id'>): ForwardedBody
}

/** A body on its way to the primary. */
export interface ForwardedBody {
  /**
   * Send pieces, in order; resolves once the socket no longer points into them (a front end may
   * then recycle their buffers) and can take more (backpressure). Rejects when the link failed.
   */
  write(pieces: Buffer[]): Promise<void>
  /** End the body with its SHA-256; resolves to the primary's answer (after its commit). */
  finish(sha256: Buffer): Promise<WriteResult>
  /** The body broke off: the primary is made to drop it (its connection closes). */
  abort(): void
}

/** A request's fields the forwarded request carries (its `id` is the link's own). */
export function withoutId<T extends Request>(request: T): Omit<T, 'id'> {
  const rest: Partial<T> = { ...request }
  delete rest.id
  return rest as Omit<T, 'id'>
}

/**
 * HTTP conditions (If-Match, If-None-Match) are checked at the moment of the write; the binary
 * protocol that reaches the primary has no way to carry them, so a secondary refuses them rather
 * than check them against its own, possibly older, copy (a lost update).
 */
export function refuseConditions(forward: Forwarder, conditions: Conditions | undefined): void {
  if (hasConditions(conditions))
    throw new TandemError(
      'ERR_BAD_REQUEST',
      `a conditional write (If-Match, If-None-Match) cannot be forwarded: send it to the primary ${forward.primary}`,
    )
}

/**
 * Send `request` to the primary and answer its result. The console here says so (the change log
 * is the primary's; this server's records the change when mirroring brings it).
 */
export async function forwardRequest<T>(
  ctx: Pick<OpsContext, 'log'>,
  forward: Forwarder,
  request: ForwardedRequest,
  line: { name: string; to?: string | undefined },
): Promise<T> {
  const result = await forward.call<T>(request)
  ctx.log({ op: request.op, ...line, detail: `forwarded to the primary ${forward.primary}` }, false)
  return result
}

/** The request id of a request, as a field to spread (none when it has none). */
export function ridOf(req: { rid?: string | undefined }): { rid?: string } {
  return req.rid === undefined ? {} : { rid: req.rid }
}
