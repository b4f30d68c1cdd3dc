/**
 * A socket speaking tandem frames, for the peer-sync worker's own connections (it owns its
 * sockets: no thread hand-off). Sends our preamble at once, checks the peer's, then reports
 * control messages, data pieces and end frames. Sending respects the socket's backpressure.
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
} from '../../protocol/index.js'

export interface FrameHandlers {
  onControl(message: unknown): void
  onData?(piece: Buffer): void
  onEnd?(sha256: Buffer): void
  /** Once, when the socket is gone (`error` when it failed). */
  onClose(error: Error | undefined): void
}

export class FramedSocket {
  readonly socket: net.Socket
  #closed = false
  #error: Error | undefined

  /** `maxControl`: the largest control message accepted (the serving side takes small ones). */
  constructor(
    socket: net.Socket,
    handlers: FrameHandlers,
    maxControl: number = Limits.maxResponseControl,
  ) {
    this.socket = socket
    socket.setNoDelay(true)
    // A peer whose machine vanished is noticed even when nothing is being sent.
    socket.setKeepAlive(true, 10_000)
    const decoder = new FrameDecoder(
      {
        onPreamble: (version) => {
          if (version !== PROTOCOL_VERSION)
            this.destroy(
              new TandemError('ERR_UNSUPPORTED_VERSION', `peer speaks protocol ${version}`),
            )
        },
        onControl: (m) => handlers.onControl(m),
        onData: (piece) => handlers.onData?.(piece),
        onEnd: (sha) => handlers.onEnd?.(sha),
      },
      { expectPreamble: true, maxControl },
    )
    socket.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk)
      } catch (err) {
        this.destroy(err as Error)
      }
    })
    socket.on('error', (err) => (this.#error ??= err))
    socket.on('close', () => {
      this.#closed = true
      handlers.onClose(this.#error)
    })
    socket.write(encodePreamble())
  }

  get closed(): boolean {
    return this.#closed
  }

  send(message: unknown): boolean {
    if (this.#closed) return false
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

  destroy(error?: Error): void {
    this.#error ??= error
    this.socket.destroy()
  }
}
