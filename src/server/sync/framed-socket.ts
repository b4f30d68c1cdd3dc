/**
 * A socket speaking tandem frames, for the peer-sync worker's own connections (it owns its
 * sockets: no thread hand-off). Sends our preamble at once, checks the peer's, then reports
 * control messages, data pieces and end frames. Sending respects the socket's backpressure. Bad
 * input fails with the frame decoder's code (ERR_BAD_FRAME, ERR_UNSUPPORTED_VERSION,
 * ERR_TOO_LARGE): the serving side answers it in an `{type:'error'}` frame before closing, as the
 * control port does.
 */
import type net from 'node:net'
import {
  FrameDecoder,
  Limits,
  PROTOCOL_VERSION,
  TandemError,
  encodeControl,
  encodeData,
  encodeEnd,
  encodePreamble,
  toWireError,
} from '../../protocol/index.js'

/** How long a connection closed on bad input may linger for the other side to close its side. */
const CLOSE_GRACE_MS = 2_000

export interface FrameHandlers {
  onControl(message: unknown): void
  onData?(piece: Buffer): void
  onEnd?(sha256: Buffer): void
  /** Once, when the socket is gone (`error` when it failed). */
  onClose(error: Error | undefined): void
}

export interface FramedSocketOptions {
  /** The largest control message accepted (the serving side takes small ones). */
  maxControl?: number
  /** This side accepted the connection: bad input is answered with its code before the close. */
  serving?: boolean
}

export class FramedSocket {
  readonly socket: net.Socket
  #closed = false
  #error: Error | undefined
  readonly #decoder: FrameDecoder

  constructor(socket: net.Socket, handlers: FrameHandlers, options: FramedSocketOptions = {}) {
    this.socket = socket
    socket.setNoDelay(true)
    // A peer whose machine vanished is noticed even when nothing is being sent.
    socket.setKeepAlive(true, 10_000)
    const decoder = (this.#decoder = new FrameDecoder(
      {
        onControl: (m) => handlers.onControl(m),
        onData: (piece) => handlers.onData?.(piece),
        onEnd: (sha) => handlers.onEnd?.(sha),
      },
      {
        expectPreamble: true,
        maxControl: options.maxControl ?? Limits.maxResponseControl,
        version: PROTOCOL_VERSION,
      },
    ))
    socket.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk)
      } catch (err) {
        if (options.serving) this.#refuse(err as Error)
        else this.destroy(err as Error)
      }
    })
    socket.on('error', (err) => (this.#error ??= err))
    socket.on('close', () => {
      this.#closed = true
      handlers.onClose(this.#error)
    })
    socket.write(encodePreamble())
  }

  /** The largest control message accepted from now on (after a handshake, a larger one). */
  limitControl(maxControl: number): void {
    this.#decoder.limitControl(maxControl)
  }

  get closed(): boolean {
    return this.#closed
  }

  send(message: unknown): boolean {
    if (this.#closed || this.socket.writableEnded) return false
    return this.socket.write(encodeControl(message))
  }

  /** Send a data frame; resolves when the socket can take more. */
  async sendData(payload: Uint8Array): Promise<void> {
    const [header, body] = encodeData(payload)
    this.socket.write(header)
    if (!this.socket.write(body)) await this.drained()
  }

  sendEnd(sha256: Uint8Array): void {
    this.socket.write(encodeEnd(sha256))
  }

  drained(): Promise<void> {
    if (this.#closed) return Promise.reject(new TandemError('ERR_PEER_UNREACHABLE', 'link closed'))
    return new Promise((resolve, reject) => {
      const done = (): void => {
        this.socket.off('drain', done)
        this.socket.off('close', done)
        if (this.#closed) reject(new TandemError('ERR_PEER_UNREACHABLE', 'link closed'))
        else resolve()
      }
      this.socket.once('drain', done)
      this.socket.once('close', done)
    })
  }

  /** Answer bad input with its code, then close (destroyed if the other side does not close). */
  #refuse(error: Error): void {
    if (this.socket.writableEnded) return
    this.#error ??= error
    this.send({ type: 'error', error: toWireError(error) })
    this.socket.end()
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref()
  }

  destroy(error?: Error): void {
    this.#error ??= error
    this.socket.destroy()
  }
}
