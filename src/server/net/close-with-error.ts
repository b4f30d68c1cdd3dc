/** How a connection on the control port is answered with a connection-level error and closed. */
import type net from 'node:net'
import type { WireError } from '../../protocol/errors.js'
import { encodeControl, encodePreamble } from '../../protocol/frame-encoder.js'

/** How long a connection the server closed may linger for the other side to close its side. */
export const CLOSE_GRACE_MS = 2_000

/**
 * Send `{type:'error'}` (after our preamble when `withPreamble`: it was not sent yet), then close.
 * end() waits for the other side to close too: one that never does is destroyed after the grace.
 */
export function closeWithError(socket: net.Socket, error: WireError, withPreamble: boolean): void {
  socket.on('error', () => undefined) // a reset now is the other side's business
  const frame = encodeControl({ type: 'error', error })
  socket.end(withPreamble ? Buffer.concat([encodePreamble(), frame]) : frame)
  destroyAfterGrace(socket)
}

/** The socket has been ended: destroy it if the other side has not closed its side in time. */
export function destroyAfterGrace(socket: net.Socket): void {
  setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref()
}
