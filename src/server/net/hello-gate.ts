/**
 * The start of every connection on the control port, in the main thread, before it may take a
 * client slot: a place among the connections that have not said hello yet (per remote address and
 * in all; none left: ERR_BUSY with a retry hint, closed at once), our preamble at once, then the
 * other side's preamble and first control frame — its hello — read with the protocol's
 * FrameDecoder within the hello deadline (else ERR_TIMEOUT). Bad bytes get the decoder's code
 * (ERR_BAD_FRAME, ERR_UNSUPPORTED_VERSION, ERR_TOO_LARGE); a first message that is not a valid
 * hello, ERR_BAD_REQUEST. A peer's hello, when either side has a cluster key, is answered with a
 * challenge and its proof read next (protocol/handshake.ts), in the same deadline and frame
 * limit: a peer that cannot prove the key gets ERR_AUTH, and one that keeps another number of
 * copies (--replicas) ERR_REPLICAS_MISMATCH (both reported to `peerAuth.onRefused`). A valid hello
 * (and proof) goes to `onHello` with the bytes read past it.
 */
import type net from 'node:net'
import { Limits, PROTOCOL_VERSION } from '../../protocol/constants.js'
import { TandemError, toWireError } from '../../protocol/errors.js'
import { FrameDecoder } from '../../protocol/frame-decoder.js'
import { encodeControl, encodePreamble } from '../../protocol/frame-encoder.js'
import {
  acceptPeer,
  helloSchema,
  replicasMismatch,
  type Hello,
  type RefusalCode,
} from '../../protocol/handshake.js'
import type { ServerConsole } from '../console.js'
import type { PreHelloLimits, PreHelloRefusal } from './admission.js'
import { closeWithError } from './close-with-error.js'

function isRefusal(code: string): code is RefusalCode {
  return code === 'ERR_AUTH' || code === 'ERR_REPLICAS_MISMATCH'
}

/** A connection whose hello arrived: the receiver's from now on. */
export interface Greeted {
  socket: net.Socket
  /** 'host:port' of the other side. */
  address: string
  hello: Hello
  /** Bytes that arrived after the hello (the first requests): the session must see them first. */
  rest: Buffer
  /**
   * Free its place among the pre-hello connections now (it takes a client slot instead).
   * Otherwise the place is freed when the socket closes: a peer's welcome or a refusal is
   * answered under it.
   */
  release(): void
}

export interface HelloGateOptions {
  limits: PreHelloLimits
  timeoutMs: number
  busyRetryAfterMs: number
  console: Pick<ServerConsole, 'info' | 'sessionClosed'>
  /**
   * How a peer's hello is checked: this server's name and cluster key (null: none), and its
   * --replicas (null: a copy on every member), which every member must share.
   */
  peerAuth: {
    self: string
    key: string | null
    replicas: number | null
    /**
     * A peer refused with ERR_AUTH or ERR_REPLICAS_MISMATCH (`code`; `peer`: the name it gave),
     * for the console and the log.
     */
    onRefused(peer: string, address: string, reason: string, code: RefusalCode): void
  }
  onHello(connection: Greeted): void
}

export class HelloGate {
  readonly #o: HelloGateOptions
  /** Connections still waiting for their hello, each with how to fail it. */
  readonly #waiting = new Map<net.Socket, (err: unknown) => void>()

  constructor(options: HelloGateOptions) {
    this.#o = options
  }

  /** How many connections have not said hello yet. */
  get waiting(): number {
    return this.#waiting.size
  }

  /** A new connection. */
  admit(socket: net.Socket): void {
    socket.on('error', () => undefined) // 'close' follows; a reset is not a server error
    const ip = socket.remoteAddress ?? '?'
    const refusal = this.#o.limits.tryEnter(ip)
    if (refusal) return this.#refuse(socket, ip, refusal)
    let held = true
    const release = (): void => {
      if (!held) return
      held = false
      this.#o.limits.leave(ip)
    }
    socket.once('close', release)
    socket.write(encodePreamble())
    this.#read(socket, release)
  }

  /** The server is stopping: each connection still before its hello gets ERR_SHUTTING_DOWN. */
  shutdown(): void {
    const error = new TandemError('ERR_SHUTTING_DOWN', 'the server is stopping')
    for (const fail of [...this.#waiting.values()]) fail(error)
  }

  #read(socket: net.Socket, release: () => void): void {
    const address = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`
    let first: { message: unknown } | undefined
    let decoder = helloDecoder(true, (message) => (first = { message }))
    const reading: Reading = { socket }
    const done = (): void => {
      clearTimeout(timer)
      socket.off('data', onData)
      socket.off('close', done)
      this.#waiting.delete(socket)
    }
    const fail = (err: unknown): void => {
      done()
      const error = toWireError(err)
      closeWithError(socket, error, false)
      if (isRefusal(error.code) && reading.peer !== undefined)
        this.#o.peerAuth.onRefused(reading.peer, address, error.message, error.code)
      this.#o.console.sessionClosed(
        { sessionId: '-', clientId: '?', remoteAddress: address },
        `${error.code}: ${error.message}`,
      )
    }
    const onData = (chunk: Buffer): void => {
      let consumed: number
      let hello: Hello | undefined
      try {
        consumed = decoder.push(chunk)
        if (!first) return
        const message = first.message
        first = undefined
        hello = this.#step(reading, message)
      } catch (err) {
        return fail(err)
      }
      const rest = chunk.subarray(consumed)
      if (hello) {
        done()
        return this.#o.onHello({ socket, address, hello, rest, release })
      }
      // A challenge went out: the proof comes within the same deadline, under the same limit.
      decoder = helloDecoder(false, (message) => (first = { message }))
      if (rest.length > 0) onData(rest)
    }
    const seconds = this.#o.timeoutMs / 1000
    const timer = setTimeout(
      () => fail(new TandemError('ERR_TIMEOUT', `no hello within ${seconds} s`)),
      this.#o.timeoutMs,
    )
    socket.on('data', onData)
    socket.once('close', done)
    this.#waiting.set(socket, fail)
  }

  /**
   * The hello, or a peer's proof of the cluster key: the hello once it is complete, undefined
   * when a challenge went out (the proof is read next). Throws what to refuse it with.
   */
  #step(reading: Reading, message: unknown): Hello | undefined {
    if (reading.proving) {
      reading.proving.check(message)
      return this.#agreed(reading.proving.hello)
    }
    const parsed = helloSchema.safeParse(message)
    if (!parsed.success)
      throw new TandemError('ERR_BAD_REQUEST', 'the first message must be a valid hello')
    const hello = parsed.data
    if (hello.role !== 'peer') return hello
    reading.peer = hello.id
    const { key, self } = this.#o.peerAuth
    const acceptance = acceptPeer(key, self, 'control', hello.id, hello.nonce)
    if (acceptance.kind === 'open') return this.#agreed(hello)
    reading.proving = { hello, check: acceptance.check }
    reading.socket.write(encodeControl(acceptance.challenge))
    return undefined
  }

  /** A peer's hello, the key proven: it must keep as many copies as this server does. */
  #agreed(hello: Hello): Hello {
    const { self, replicas } = this.#o.peerAuth
    const mismatch = replicasMismatch(self, replicas, hello.id, hello.replicas)
    if (mismatch) throw mismatch
    return hello
  }

  #refuse(socket: net.Socket, ip: string, why: PreHelloRefusal): void {
    const { limits } = this.#o
    const message =
      why === 'address'
        ? `${limits.from(ip)} connections from ${ip} have not said hello yet`
        : `${limits.count} connections have not said hello yet`
    this.#o.console.info(`○ refused ${ip}:${socket.remotePort ?? '?'}: ${message} (ERR_BUSY)`)
    closeWithError(
      socket,
      {
        code: 'ERR_BUSY',
        message: `${message}; try again shortly`,
        retryAfterMs: this.#o.busyRetryAfterMs,
      },
      true,
    )
  }
}

/** One connection's handshake so far. */
interface Reading {
  socket: net.Socket
  /** The name a peer's hello gave (for the log line of a refusal). */
  peer?: string
  /** A peer's hello with the cluster key: its proof is awaited (the next control frame). */
  proving?: { hello: Hello; check(message: unknown): void }
}

/**
 * A decoder of the preamble (when `preamble`) and the next control frame, which stops there (see
 * `stop()`): the hello, or a peer's proof of the cluster key.
 */
function helloDecoder(preamble: boolean, onHello: (message: unknown) => void): FrameDecoder {
  const decoder: FrameDecoder = new FrameDecoder(
    {
      onControl: (message) => {
        onHello(message)
        decoder.stop() // what follows the hello is the session's
      },
      onData: () => {
        throw new TandemError('ERR_BAD_FRAME', 'a data frame before the hello')
      },
      onEnd: () => {
        throw new TandemError('ERR_BAD_FRAME', 'an end frame before the hello')
      },
    },
    { expectPreamble: preamble, maxControl: Limits.maxHello, version: PROTOCOL_VERSION },
  )
  return decoder
}
