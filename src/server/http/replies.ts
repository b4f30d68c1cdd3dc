/**
 * Errors as HTTP answers: `{"error":{"code","message"}}` with the status the catalogue gives the
 * code (and Retry-After for ERR_BUSY). Fastify's own errors (validation, a body too large, a bad
 * form) get the nearest code; anything unexpected is ERR_INTERNAL, its details on the console.
 */
import type { FastifyError, FastifyReply } from 'fastify'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import {
  HttpStatus,
  TandemError,
  isErrorCode,
  toWireError,
  type WireError,
} from '../../protocol/index.js'

export function sendError(reply: FastifyReply, error: WireError): FastifyReply {
  if (error.code === 'ERR_BUSY' || error.code === 'ERR_SHUTTING_DOWN')
    reply.header('retry-after', Math.max(1, Math.ceil((error.retryAfterMs ?? 1000) / 1000)))
  return reply
    .code(HttpStatus[error.code])
    .type('application/json; charset=utf-8')
    .send({ error: { code: error.code, message: error.message } })
}

/** Any thrown value as a WireError fit for an HTTP answer; `onInternal` sees the unexpected. */
export function wireErrorOf(err: unknown, onInternal: (err: unknown) => void): WireError {
  if (err instanceof TandemError) return err.toWire()
  if (hasZodFastifySchemaValidationErrors(err))
    return {
      code: 'ERR_BAD_REQUEST',
      message: err.validation.map((v) => `${v.instancePath || 'request'} ${v.message}`).join('; '),
    }
  const e = err as Partial<FastifyError> & { code?: unknown }
  if (typeof e.code === 'string' && isErrorCode(e.code)) return toWireError(err)
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500
  if (status === 413)
    return { code: 'ERR_TOO_LARGE', message: e.message ?? 'the body is too large' }
  if (status >= 400 && status < 500)
    return { code: 'ERR_BAD_REQUEST', message: e.message ?? 'bad request' }
  // A broken multipart form (busboy) has no status of its own.
  if (e.message && /multipart|form|boundary/i.test(e.message))
    return { code: 'ERR_BAD_REQUEST', message: e.message }
  onInternal(err)
  return { code: 'ERR_INTERNAL', message: 'internal server error' }
}
