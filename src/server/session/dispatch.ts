/**
 * Routes a validated binary-protocol request without a body to its operation. Body operations go
 * through the BodyReceiver instead (see session.ts). The operations themselves live in ops/; this
 * file only adapts them to the protocol's requests and answers.
 */
import type { LogEntry, LogResult, Request } from '../../protocol/index.js'
import type { OpsContext } from '../ops/context.js'
import { remove, rename } from '../ops/files.js'
import { list, stat } from '../ops/listing.js'
import { lock, unlock } from '../ops/user-locks.js'
import { openDownload, type BodyOut } from './download.js'

/** Returned by a handler that already sent its own response. */
export const NO_RESPONSE = Symbol('no response')

/** How a handler reaches the client beyond returning a result. */
export interface Outbound extends BodyOut {
  sendMessage(message: unknown): void
  /**
   * Following the change log: `begin` before the history is read (entries recorded meanwhile are
   * held), `live` once it is sent (the held ones it lacks, then each new one, as `event`s).
   */
  follow: { begin(): void; live(history: readonly LogEntry[]): void; abandon(): void }
}

export async function runRequest(ctx: OpsContext, req: Request, out: Outbound): Promise<unknown> {
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
      if (!req.follow) return { entries: await ctx.readLog({ limit: req.limit ?? 50 }) }
      out.follow.begin()
      const result: LogResult = {
        entries: await ctx.readLog({ limit: req.limit ?? 50 }).catch((err: unknown) => {
          out.follow.abandon() // the request fails: nothing held for it, nothing sent
          throw err
        }),
      }
      out.sendMessage({ type: 'response', id: req.id, ok: true, result })
      out.follow.live(result.entries)
      return NO_RESPONSE
    }
    case 'status':
      return ctx.status()
    case 'lock':
      return lock(ctx, req)
    case 'unlock':
      return unlock(ctx, req)
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
