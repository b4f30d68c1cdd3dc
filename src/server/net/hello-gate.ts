/**
 * The start of every connection on the control port, in the main thread, before it may take a
 * client slot: a place among the connections that have not said hello yet (per remote address and
 * in all; none left: ERR_BUSY with a retry hint, closed at once), our preamble at once, then the
 * other side's preamble and first control frame — its hello — read with the protocol's
 * FrameDecoder within the hello deadline (else ERR_TIMEOUT). Bad bytes get the decoder's code
 * (ERR_BAD_FRAME, ERR_UNSUPPORTED_VERSION, ERR_TOO_LARGE); a first message that is not a valid
 * hello, ERR_BAD_REQUEST. A peer's hello, when either side has a cluster key, is answered with a
 * challenge and its proof read next (protocol/handshake.ts), in the same deadline and frame
 * limit: a peer that cannot prove the key gets ERR_AUTH (reported to `peerAuth.onRefused`). A
 * valid hello (and proof) goes to `onHello` with the bytes read past it.
 */
import type net from 'node:net'
import {
  FrameDecoder,
  Limits,
  PROTOCOL_VERSION,
  TandemError,
  acceptPeer,
  encodeControl,
  encodePreamble,
  helloSchema,
  toWireError,
  type Hello,
} from '../../protocol/index.js'
import type { ServerConsole } from '../console.js'
import type { PreHelloLimits, PreHelloRefusal } from './admission.js'
import { closeWithError } from './close-with-error.js'

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
  /** How a peer's hello is authenticated: this server's name and cluster key (null: none). */
  peerAuth: {
    self: string
    key: string | null
    /** A peer refused with ERR_AUTH (`peer`: the name it gave), for the console and the log. */
    onRefused(peer: string, address: string, reason: string): void
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
    /** A peer's hello with the cluster key: its proof is awaited (the next control frame). */
    let proving: { hello: Hello; check(message: unknown): void } | undefined
    /** The name a peer's hello gave (for the log line of a refusal). */
    let peer: string | undefined
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
      if (error.code === 'ERR_AUTH' && peer !== undefined)
        this.#o.peerAuth.onRefused(peer, address, error.message)
      this.#o.console.sessionClosed(
        { sessionId: '-', clientId: '?', remoteAddress: address },
        `${error.code}: ${error.message}`,
      )
    }
    const greet = (hello: Hello, rest: Buffer): void => {
      done()
      this.#o.onHello({ socket, address, hello, rest, release })
    }
    const onData = (chunk: Buffer): void => {
      let consumed: number
      try {
        consumed = decoder.push(chunk)
      } catch (err) {
        return fail(err)
      }
      if (!first) return
      const message = first.message
      first = undefined
      try {
        if (proving) {
          proving.check(message)
          return greet(proving.hello, chunk.subarray(consumed))
        }
        const hello = helloSchema.safeParse(message)
        if (!hello.success)
          throw new TandemError('ERR_BAD_REQUEST', 'the first message must be a valid hello')
        if (hello.data.role === 'peer') peer = hello.data.id
        const acceptance =
          hello.data.role === 'peer'
            ? acceptPeer(
                this.#o.peerAuth.key,
                this.#o.peerAuth.self,
                'control',
                hello.data.id,
                hello.data.nonce,
              )
            : ({ kind: 'open' } as const)
        if (acceptance.kind === 'open') return greet(hello.data, chunk.subarray(consumed))
        // The proof comes within the same hello deadline, under the same small frame limit.
        proving = { hello: hello.data, check: acceptance.check }
        socket.write(encodeControl(acceptance.challenge))
        decoder = helloDecoder(false, (m) => (first = { message: m }))
      } catch (err) {
        return fail(err)
      }
      const rest = chunk.subarray(consumed)
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
