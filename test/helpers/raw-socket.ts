/**
 * A raw protocol socket for bad-input tests: it sends whatever bytes a test wants and decodes what
 * the server sends back with the protocol's own FrameDecoder.
 */
import { createHash } from 'node:crypto'
import net from 'node:net'
import {
  encodeControl,
  encodeData,
  encodeEnd,
  encodePreamble,
  FrameDecoder,
  Limits,
} from '../../src/protocol/index.js'
import { registerCleanup } from './cleanup.js'
import { deadline } from './wait-for.js'

/** What the server sent, frame by frame (a data frame's pieces are joined). */
export type ServerFrame =
  | { kind: 'preamble'; version: number }
  | { kind: 'control'; message: Record<string, unknown> }
  | { kind: 'data'; bytes: Buffer }
  | { kind: 'end'; sha256: Buffer }

export interface RawConnection {
  socket: net.Socket
  /** Every frame received, in order (never consumed). */
  readonly frames: ServerFrame[]
  /** Set when the server's bytes did not decode. */
  readonly decodeError: Error | undefined
  readonly isClosed: boolean
  /** Resolves when the socket has closed. */
  readonly closed: Promise<void>
  /** Write raw bytes (or several buffers), waiting for drain when the socket asks to. */
  send(...chunks: Uint8Array[]): Promise<void>
  sendPreamble(version?: number): Promise<void>
  sendControl(message: unknown): Promise<void>
  /** Body bytes as data frames of `chunk` bytes, then (if `end`) the end frame with their SHA-256. */
  sendBody(body: Uint8Array, options?: { chunk?: number; end?: boolean }): Promise<void>
  /** The next frame not yet taken by next(); rejects on timeout (Infinity: none) or if the socket closes first. */
  next(timeoutMs?: number): Promise<ServerFrame>
  /** The next control message (skipping the preamble). */
  nextControl(timeoutMs?: number): Promise<Record<string, unknown>>
  /** Close our side gracefully (FIN). */
  end(): void
  destroy(): void
}

/**
 * Connect to `host:port`. `localAddress` picks the source address (another loopback address,
 * e.g. 127.0.0.2, stands for another host: the server counts some things per address).
 */
export async function rawConnect(
  port: number,
  host = '127.0.0.1',
  options: { localAddress?: string } = {},
): Promise<RawConnection> {
  const socket = net.connect({ port, host, ...options })
  registerCleanup(() => void socket.destroy())
  await deadline(
    new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    }),
    10_000,
    `connect to ${host}:${port}`,
  )
  return new RawSocket(socket)
}

class RawSocket implements RawConnection {
  readonly socket: net.Socket
  readonly frames: ServerFrame[] = []
  decodeError: Error | undefined
  isClosed = false
  readonly closed: Promise<void>
  #taken = 0
  #wake: (() => void) | undefined
  #pieces: Buffer[] = []

  constructor(socket: net.Socket) {
    this.socket = socket
    // ECONNRESET and the like are part of what bad-input tests provoke: record, do not throw.
    socket.on('error', () => undefined)
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()))
    void this.closed.then(() => {
      this.isClosed = true
      this.#notify()
    })
    const decoder = new FrameDecoder(
      {
        onPreamble: (version) => this.#add({ kind: 'preamble', version }),
        onControl: (message) =>
          this.#add({ kind: 'control', message: message as Record<string, unknown> }),
        onData: (piece, frameEnd) => {
          this.#pieces.push(Buffer.from(piece))
          if (!frameEnd) return
          this.#add({ kind: 'data', bytes: Buffer.concat(this.#pieces) })
          this.#pieces = []
        },
        onEnd: (sha256) => this.#add({ kind: 'end', sha256 }),
      },
      { expectPreamble: true, maxControl: Limits.maxResponseControl },
    )
    socket.on('data', (chunk: Buffer) => {
      if (this.decodeError) return
      try {
        decoder.push(chunk)
      } catch (err) {
        this.decodeError = err as Error
        this.#notify()
      }
    })
  }

  #add(frame: ServerFrame): void {
    this.frames.push(frame)
    this.#notify()
  }

  #notify(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }

  async send(...chunks: Uint8Array[]): Promise<void> {
    for (const chunk of chunks) {
      if (this.socket.destroyed || this.socket.writableEnded) throw new Error('socket is closed')
      if (!this.socket.write(chunk)) {
        await new Promise<void>((resolve, reject) => {
          const onDrain = () => {
            this.socket.off('close', onClose)
            resolve()
          }
          const onClose = () => {
            this.socket.off('drain', onDrain)
            reject(new Error('socket closed while writing'))
          }
          this.socket.once('drain', onDrain)
          this.socket.once('close', onClose)
        })
      }
    }
  }

  sendPreamble(version?: number): Promise<void> {
    return this.send(encodePreamble(version))
  }

  sendControl(message: unknown): Promise<void> {
    return this.send(encodeControl(message))
  }

  async sendBody(body: Uint8Array, options: { chunk?: number; end?: boolean } = {}): Promise<void> {
    const chunk = options.chunk ?? Limits.dataChunk
    for (let offset = 0; offset < body.length; offset += chunk) {
      await this.send(...encodeData(body.subarray(offset, offset + chunk)))
    }
    if (options.end ?? true) await this.send(encodeEnd(createHash('sha256').update(body).digest()))
  }

  async next(timeoutMs = 10_000): Promise<ServerFrame> {
    const until = Date.now() + timeoutMs
    for (;;) {
      const frame = this.frames[this.#taken]
      if (frame) {
        this.#taken++
        return frame
      }
      if (this.decodeError) throw this.decodeError
      if (this.isClosed) throw new Error('connection closed before the next frame')
      const woken = new Promise<void>((resolve) => (this.#wake = resolve))
      if (timeoutMs === Infinity) {
        await woken
        continue
      }
      const left = until - Date.now()
      if (left <= 0) throw new Error(`no frame from the server within ${timeoutMs} ms`)
      await deadline(woken, left, 'a frame').catch(() => undefined)
    }
  }

  async nextControl(timeoutMs = 10_000): Promise<Record<string, unknown>> {
    for (;;) {
      const frame = await this.next(timeoutMs)
      if (frame.kind === 'control') return frame.message
      if (frame.kind !== 'preamble')
        throw new Error(`expected a control message, got a ${frame.kind} frame`)
    }
  }

  end(): void {
    this.socket.end()
  }

  destroy(): void {
    this.socket.destroy()
  }
}

/** A frame's 5-byte header (length, type) as the wire has it, to hand-make bad frames. */
export function frameHeader(length: number, type: number): Buffer {
  const buf = Buffer.alloc(5)
  buf.writeUInt32BE(length, 0)
  buf.writeUInt8(type, 4)
  return buf
}
