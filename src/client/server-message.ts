/**
 * Light validation of what a server sends, before the connection acts on it.
 */
import { TandemError, serverMessageSchema, type ServerMessage } from '../protocol/index.js'

export type { ServerMessage }

/** The message, or ERR_BAD_FRAME if it is not one a server sends. */
export function parseServerMessage(raw: unknown): ServerMessage {
  const parsed = serverMessageSchema.safeParse(raw)
  if (!parsed.success) {
    throw new TandemError('ERR_BAD_FRAME', 'the server sent a malformed control message')
  }
  // Error codes are checked where they are used (TandemError.fromWire maps unknown ones).
  return parsed.data as ServerMessage
}
