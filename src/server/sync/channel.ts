/**
 * What the file-exchange port's channels share: one channel per peer connection, and how a
 * message or a refusal is sent on it.
 */
import { TandemError } from '../../protocol/errors.js'
import type { Challenge } from '../../protocol/handshake.js'
import type { PeerPush, PeerRequest } from '../../protocol/peer-messages.js'
import type { FramedSocket } from './framed-socket.js'

export interface Channel {
  request(message: PeerRequest): void
  close(): void
}

export function send(framed: FramedSocket, message: PeerPush | Challenge): void {
  framed.send(message)
}

export function fail(
  framed: FramedSocket,
  code: 'ERR_BAD_REQUEST' | 'ERR_SYNC_REFUSED' | 'ERR_AUTH' | 'ERR_REPLICAS_MISMATCH',
  message: string,
): void {
  const error = new TandemError(code, message)
  send(framed, { type: 'error', error: error.toWire() })
  framed.socket.end()
}
