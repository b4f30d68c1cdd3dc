/**
 * A socket speaking tandem frames, for the peer-sync worker's own connections (it owns its
 * sockets: no thread hand-off). Sends our preamble at once, checks the peer's, then reports
 * control messages, data pieces and end frames. Sending respects the socket's backpressure. Bad
 * input fails with the frame decoder's code (ERR_BAD_FRAME, ERR_UNSUPPORTED_VERSION,
 * ERR_TOO_LARGE): the serving side answers it in an `{type:'error'}` frame before closing, as the
 * control port does.
 */
import type net from 'node:net'
import { FrameDecoder } from '../../protocol/frame-decoder.js'
import { Limits, PROTOCOL_VERSION } from '../../protocol/constants.js'
import { TandemError, toWireError } from '../../protocol/errors.js'
import {
  encodeControl,
  encodeData,
  encodeEnd,
  encodePreamble,
} from '../../protocol/frame-encoder.js'

/** How long a connection closed on bad input may linger for the other side to close its side. */
const CLOSE_GRACE_MS = 2_000
/** Data pieces smaller than this are held with the turn's other frames; bigger ones go at once. */
const CORK_BELOW = 64 * 1024

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
  /** Corked until the loop's check phase: the frames of one turn leave in one writev. */
  #uncork: NodeJS.Immediate | undefined
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
    this.#cork()
    return this.socket.write(encodeControl(message))
  }

  /** Send a data frame; resolves when the socket can take more. */
  async sendData(payload: Uint8Array): Promise<void> {
    const [header, body] = encodeData(payload)
    // A big piece goes at once, after what is corked (a small file's one piece waits with it).
    if (payload.length >= CORK_BELOW) this.#flush()
    else this.#cork()
    this.socket.write(header)
    if (!this.socket.write(body)) await this.drained()
  }

  sendEnd(sha256: Uint8Array): void {
    this.#cork()
    this.socket.write(encodeEnd(sha256))
  }

  /**
   * Hold this turn's frames until the loop's check phase, then write them together: a burst of
   * small files (fetches on one side, their answers and index messages on the other) was one
   * write syscall per frame, 2–4 per file. A frame waits at most for the callbacks of the
   * current loop turn; a big piece of data is not held back.
   */
  #cork(): void {
    if (this.#uncork) return
    this.socket.cork()
    this.#uncork = setImmediate(() => this.#flush())
  }

  #flush(): void {
    if (!this.#uncork) return
    clearImmediate(this.#uncork)
    this.#uncork = undefined
    this.socket.uncork()
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
    this.#flush() // what was whole and corked leaves first (the other side need not ask again)
    this.socket.destroy()
  }
}
