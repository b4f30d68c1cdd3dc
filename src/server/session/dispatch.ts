/**
 * Routes a validated request without a body to its handler. Body operations go through the
 * BodyReceiver instead (see session.ts).
 */
import type { LogEntry, LogResult, Request, StatusResult } from '../../protocol/index.js'
import type { UserLockRequest } from '../workers/messages.js'
import { NO_RESPONSE, type SessionContext } from './context.js'
import { openDownload, type BodyOut } from './download.js'
import { userLock } from './lock-ops.js'
import { list, remove, rename, stat } from './simple-ops.js'

/** How a handler reaches the client and the main thread beyond returning a result. */
export interface Outbound extends BodyOut {
  sendMessage(message: unknown): void
  queryLog(limit: number | undefined): Promise<LogEntry[]>
  queryStatus(): Promise<StatusResult>
  follow(): void
  /** A user lock or unlock, done by the main thread and the sync worker. */
  userLock(request: UserLockRequest): Promise<unknown>
}

export async function runRequest(
  ctx: SessionContext,
  req: Request,
  out: Outbound,
): Promise<unknown> {
  switch (req.op) {
    case 'list':
      return list(ctx)
    case 'stat':
      return stat(ctx, req)
    case 'rename':
      return rename(ctx, req)
    case 'delete':
      return remove(ctx, req)
    case 'download': {
      const { header, stream } = await openDownload(ctx, req)
      out.sendMessage({ type: 'response', id: req.id, ok: true, result: header })
      try {
        await stream(out)
      } catch (err) {
        // The body has begun: an answer now would land inside it. Only closing is left.
        throw new BodyBroken(err)
      }
      return NO_RESPONSE
    }
    case 'log': {
      const result: LogResult = { entries: await out.queryLog(req.limit) }
      if (!req.follow) return result
      out.sendMessage({ type: 'response', id: req.id, ok: true, result })
      out.follow()
      return NO_RESPONSE
    }
    case 'status':
      return out.queryStatus()
    case 'lock':
    case 'unlock':
      return userLock(ctx, req, out)
    case 'ping':
      return { time: Date.now() }
    default:
      // Body operations never reach here (session.ts routes them to the BodyReceiver).
      throw new Error(`unexpected operation ${req.op}`)
  }
}

/** A failure after a response's body began: the connection must close (see session.ts). */
export class BodyBroken extends Error {
  constructor(override readonly cause: unknown) {
    super('a response body broke off')
    this.name = 'BodyBroken'
  }
}
