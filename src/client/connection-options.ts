/** The options and callbacks of Connection's public methods (re-exported by connection.ts). */
import type { TandemError } from '../protocol/client.js'
import type { Progress } from './body-sender.js'

export interface ConnectOptions {
  host: string
  port: number
  /** Sent in the hello; the server logs it as the client of each operation. */
  clientId: string
  /** Bound on TCP connect plus handshake. Default 10 s. */
  connectTimeoutMs?: number
  /**
   * A server that moves no byte, in either direction, for this long while a request awaits its
   * answer is taken for lost: the connection fails with ERR_TIMEOUT. Time the client itself
   * holds the socket paused (its disk is slow) does not count. Default 2 min (a server's own idle
   * timeout); 0: never.
   */
  stallTimeoutMs?: number
}

/** Options for create, write and append. */
export interface BodyOptions {
  /** Called after each data frame is handed to the socket: (bytes sent, total if known). */
  onProgress?: Progress
  /** The request id of a replay (see request-ids.ts); a new one is drawn otherwise. */
  rid?: string
}

export interface UploadOptions extends BodyOptions {
  /** Body size; the server refuses a body of another size. Taken from a Buffer body if omitted. */
  size?: number
  /** Modification time to set on the stored file, ms since the epoch. */
  mtime?: number
}

/** Why a connection ended: undefined when this side closed it on purpose. */
export type CloseListener = (error: TandemError | undefined) => void
