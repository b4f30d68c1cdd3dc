/**
 * One connection from a secondary to its primary's control port, speaking the client protocol
 * (src/protocol's frames and messages) in the name of one client: its hello carries that client's
 * id, so the primary's user-lock owners, console and change log name the real client. Requests
 * are pipelined (the primary answers in order); a body holds the connection's writer from its
 * request to its end frame, so two bodies never interleave.
 */
import net from 'node:net'
import {
  TandemError,
  encodeData,
  serverMessageSchema,
  type WireError,
} from '../../protocol/index.js'
import { FramedSocket } from '../sync/framed-socket.js'

/** Bytes per data frame sent (the protocol's senders' size). */
const FRAME_BYTES = 256 * 1024

export interface ConnectOptions {
  /** The primary's control port, HOST:PORT. */
  address: string
  clientId: string
  /** Sent in the hello (`software`): says the connection is a secondary's. */
  software: string
  /** Connect + hello + welcome must be done within this. */
  timeoutMs: number
}

interface Pending {
  resolve(result: unknown): void
  reject(error: Error): void
}

export class PrimaryConnection {
  readonly #address: string
  #framed!: FramedSocket
  #nextId = 1
  readonly #pending = new Map<number, Pending>()
  /** The writer: a request (and its body) takes it; the next waits for it. */
  #writer: Promise<void> = Promise.resolve()
  #writerHeld = 0
  #failure: TandemError | undefined
  #onWelcome: Pending | undefined
  #onClose: (() => void) | undefined

  private constructor(address: string) {
    this.#address = address
  }

  /** Connect and say hello; rejects with ERR_PEER_UNREACHABLE (or the primary's ERR_BUSY). */
  static open(options: ConnectOptions, onClose?: () => void): Promise<PrimaryConnection> {
    const conn = new PrimaryConnection(options.address)
    conn.#onClose = onClose
    const { host, port } = splitAddress(options.address)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => conn.#framed.destroy(unreachable(options.address, 'no answer to the hello in time')),
        options.timeoutMs,
      )
      conn.#onWelcome = {
        resolve: () => {
          clearTimeout(timer)
          resolve(conn)
        },
        reject: (err) => {
          clearTimeout(timer)
          reject(err)
        },
      }
      const socket = net.connect({ host, port })
      conn.#framed = new FramedSocket(socket, {
        onControl: (message) => conn.#onMessage(message),
        onClose: (error) => conn.#closed(error),
      })
      conn.#framed.send({
        type: 'hello',
        role: 'client',
        id: options.clientId,
        software: options.software,
      })
    })
  }

  get closed(): boolean {
    return this.#failure !== undefined
  }

  /** Requests sent and not answered, or a body being sent. */
  get busy(): boolean {
    return this.#pending.size > 0 || this.#writerHeld > 0
  }

  /** Send a request without a body; resolves to its result. */
  async call(message: Record<string, unknown>): Promise<unknown> {
    const release = await this.#takeWriter()
    try {
      return this.#send(message)
    } finally {
      release()
    }
  }

  /**
   * Start a request with a body. The returned functions send its pieces and its end; the writer
   * is held until the end (or until the connection fails).
   */
  startBody(message: Record<string, unknown>): BodyWriter {
    const started = this.#takeWriter().then((release) => ({ release, answer: this.#send(message) }))
    started.catch(() => undefined) // seen by write/finish
    return {
      write: async (pieces) => {
        await started
        await this.#writeData(pieces)
      },
      finish: async (sha256) => {
        const { release, answer } = await started
        this.#check()
        this.#framed.sendEnd(sha256)
        release()
        return answer
      },
      abort: () => {
        void started.then(
          ({ release, answer }) => {
            answer.catch(() => undefined)
            // Nothing else waits on this connection — no other answer due, no other request
            // queued for the writer (this body holds it: 1): closing it makes the primary drop the
            // body (and record it as interrupted). Otherwise the others' answers must still come:
            // the body is ended with a SHA-256 no body has, which the primary refuses
            // (ERR_INTEGRITY) and stores nothing.
            if (this.#pending.size <= 1 && this.#writerHeld <= 1) this.destroy()
            else {
              this.#framed.sendEnd(Buffer.alloc(32))
              release()
            }
          },
          () => undefined,
        )
      },
    }
  }

  /** Close now; requests still waiting fail with ERR_PEER_UNREACHABLE. */
  destroy(): void {
    this.#framed.destroy()
  }

  #send(message: Record<string, unknown>): Promise<unknown> {
    this.#check()
    const id = this.#nextId++
    const answer = new Promise<unknown>((resolve, reject) =>
      this.#pending.set(id, { resolve, reject }),
    )
    this.#framed.send({ ...message, id })
    return answer
  }

  async #writeData(pieces: readonly Buffer[]): Promise<void> {
    this.#check()
    const socket = this.#framed.socket
    const frames: Uint8Array[] = []
    for (const piece of pieces)
      for (let at = 0; at < piece.length; at += FRAME_BYTES)
        frames.push(...encodeData(piece.subarray(at, at + FRAME_BYTES)))
    const last = frames.pop()
    if (last === undefined) return
    for (const frame of frames) socket.write(frame)
    // Once the last write's callback ran, the socket no longer points into any piece (writes
    // complete in order; one that fails destroys the socket, and so fails the last one too).
    await new Promise<void>((resolve, reject) =>
      socket.write(last, (err) =>
        err ? reject(this.#failure ?? unreachable(this.#address, err.message)) : resolve(),
      ),
    )
  }

  #takeWriter(): Promise<() => void> {
    const before = this.#writer
    let release!: () => void
    this.#writer = new Promise((resolve) => (release = resolve))
    this.#writerHeld++
    let released = false
    const once = (): void => {
      if (released) return
      released = true
      this.#writerHeld--
      release()
    }
    return before.then(() => {
      if (this.#failure) {
        once()
        throw this.#failure
      }
      return once
    })
  }

  #check(): void {
    if (this.#failure) throw this.#failure
  }

  #onMessage(raw: unknown): void {
    const parsed = serverMessageSchema.safeParse(raw)
    if (!parsed.success) {
      this.#framed.destroy(unreachable(this.#address, 'it sent a message this server cannot read'))
      return
    }
    const message = parsed.data
    switch (message.type) {
      case 'welcome':
        this.#onWelcome?.resolve(undefined)
        this.#onWelcome = undefined
        return
      case 'error':
        // The primary closes the connection after it (busy, stopping, idle): say why once.
        this.#failure ??= refusal(this.#address, message.error)
        return
      case 'response': {
        const pending = this.#pending.get(message.id)
        this.#pending.delete(message.id)
        if (message.ok) pending?.resolve(message.result)
        else pending?.reject(TandemError.fromWire(message.error as WireError))
        return
      }
      case 'event':
        return
    }
  }

  #closed(error: Error | undefined): void {
    const failure = (this.#failure ??=
      error instanceof TandemError && error.code === 'ERR_PEER_UNREACHABLE'
        ? error
        : unreachable(
            this.#address,
            this.#onWelcome
              ? (error?.message ?? 'it closed the connection')
              : 'the connection closed before it answered (the operation may or may not have been applied there; a retry with the same request id is applied once)',
          ))
    this.#onWelcome?.reject(failure)
    this.#onWelcome = undefined
    for (const pending of this.#pending.values()) pending.reject(failure)
    this.#pending.clear()
    this.#onClose?.()
  }
}

/** What a body request's sender uses (see PrimaryConnection.startBody). */
export interface BodyWriter {
  write(pieces: readonly Buffer[]): Promise<void>
  finish(sha256: Buffer): Promise<unknown>
  abort(): void
}

function splitAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':')
  return { host: address.slice(0, at), port: Number(address.slice(at + 1)) }
}

function unreachable(address: string, why: string): TandemError {
  return new TandemError('ERR_PEER_UNREACHABLE', `the primary ${address} cannot be reached: ${why}`)
}

/** A connection-level error from the primary: busy passes through (retry later), else unreachable. */
function refusal(address: string, error: { code: string; message: string }): TandemError {
  if (error.code === 'ERR_BUSY') return TandemError.fromWire(error as WireError)
  return unreachable(address, `${error.code}: ${error.message}`)
}
