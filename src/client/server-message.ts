/**
 * Light validation of what a server sends, before the connection acts on it.
 *
 * Why not the protocol's `serverMessageSchema`: with zod 4 it throws "Duplicate discriminator
 * value" on every parse (two variants share type 'response'); reported to the lead. This plain
 * union checks the same shapes; switch back once the protocol's schema parses.
 */
import { z } from 'zod'
import { TandemError, type LogEntry, type WireError } from '../protocol/index.js'

const wireError = z.object({
  code: z.string(),
  message: z.string(),
  retryAfterMs: z.number().optional(),
})

const schema = z.union([
  z.object({
    type: z.literal('welcome'),
    server: z.object({ name: z.string(), version: z.string() }),
    sessionId: z.string(),
  }),
  z.object({
    type: z.literal('response'),
    id: z.number(),
    ok: z.literal(true),
    result: z.unknown(),
  }),
  z.object({ type: z.literal('response'), id: z.number(), ok: z.literal(false), error: wireError }),
  z.object({ type: z.literal('error'), error: wireError }),
  z.object({ type: z.literal('event'), event: z.record(z.string(), z.unknown()) }),
])

export type ServerMessage =
  | { type: 'welcome'; server: { name: string; version: string }; sessionId: string }
  | { type: 'response'; id: number; ok: true; result: unknown }
  | { type: 'response'; id: number; ok: false; error: WireError }
  | { type: 'error'; error: WireError }
  | { type: 'event'; event: LogEntry }

/** The message, or ERR_BAD_FRAME if it is not one a server sends. */
export function parseServerMessage(raw: unknown): ServerMessage {
  const parsed = schema.safeParse(raw)
  if (!parsed.success) {
    throw new TandemError('ERR_BAD_FRAME', 'the server sent a malformed control message')
  }
  // Error codes are checked where they are used (TandemError.fromWire maps unknown ones).
  return parsed.data as ServerMessage
}
