/**
 * A content channel to one peer's file-exchange port: pipelined fetches by name and SHA-256,
 * answered in order, each body written straight into a temp file (with backpressure: the socket
 * pauses while the disk is behind), or for a small one into a body held in memory
 * (content-source.ts). The caller seals either against the expected hash.
 */
import net from 'node:net'
import { PeerConnector } from '../../protocol/handshake.js'
import { TandemError } from '../../protocol/errors.js'
import { peerPushSchema } from '../../protocol/peer-messages.js'
import type { ContentSink } from '../storage/sealed-file.js'
import { FramedSocket } from './framed-socket.js'

const PAUSE_ABOVE = 8 * 1024 * 1024 // bytes received but not yet on disk
const RESUME_BELOW = 2 * 1024 * 1024
const WRITE_AT = 1024 * 1024

/** The peer has no current copy of that content: it changed there, and will be announced. */
export class Superseded extends TandemError {}

interface Pending {
  id: number
  size: number
  temp: ContentSink
  header?: { size: number; mtime: number }
  received?: number
  /** This body's writes, in order (each body has its own chain: bodies are written at once). */
  writing?: Promise<void>
  resolve(header: { size: number; mtime: number }): void
  reject(err: Error): void
}

/** The content channel's handshake must be over by then. */
const WELCOME_TIMEOUT_MS = 10_000

export class ContentClient {
  readonly #framed: FramedSocket
  readonly #queue: Pending[] = []
  #nextId = 0
  #unwritten = 0
  #failure: Error | undefined
  #welcomed: Promise<void>
  #welcomedYet = false
  #gathered: Buffer[] = []
  #gatheredBytes = 0

  readonly #auth: PeerConnector

  private constructor(
    socket: net.Socket,
    self: string,
    private readonly onActivity: () => void,
    clusterKey: string | null,
  ) {
    this.#auth = new PeerConnector(clusterKey, self, 'content')
    let welcomed!: () => void
    let refused!: (err: Error) => void
    this.#welcomed = new Promise((resolve, reject) => {
      welcomed = resolve
      refused = reject
    })
    this.#welcomed.catch(() => undefined)
    this.#framed = new FramedSocket(socket, {
      onControl: (m) =>
        this.#onControl(m, () => {
          socket.setTimeout(0)
          welcomed()
        }),
      onData: (piece) => this.#onData(piece),
      onEnd: () => this.#onEnd(),
      onClose: (err) => {
        const failure =
          this.#failure ??
          new TandemError(
            'ERR_PEER_UNREACHABLE',
            `content link closed${err ? `: ${err.message}` : ''}`,
          )
        refused(failure)
        for (const p of this.#queue.splice(0)) p.reject(failure)
      },
    })
    // A peer that takes the connection and never welcomes it (wedged, stopped) must not hold a
    // fetch, and with it its link's batch, for ever.
    socket.setTimeout(WELCOME_TIMEOUT_MS, () =>
      this.#framed.destroy(new Error(`no welcome in ${WELCOME_TIMEOUT_MS / 1000} s`)),
    )
    this.#framed.send({
      type: 'peer-hello',
      server: self,
      channel: 'content',
      ...this.#auth.helloFields,
    })
  }

  /**
   * `onActivity` is told of every piece of content received (the link is moving). With a
   * `clusterKey` the channel proves it both ways before any fetch (ERR_AUTH otherwise).
   */
  static async connect(
    host: string,
    port: number,
    self: string,
    onActivity: () => void = () => undefined,
    clusterKey: string | null = null,
  ): Promise<ContentClient> {
    const socket = net.connect({ host, port })
    const client = new ContentClient(socket, self, onActivity, clusterKey)
    await client.#welcomed
    return client
  }

  get closed(): boolean {
    return this.#framed.closed
  }

  /** Fetch content into `temp`; resolves with the sender's size and mtime once all is written. */
  fetch(
    name: string,
    hash: string,
    size: number,
    temp: ContentSink,
  ): Promise<{ size: number; mtime: number }> {
    if (this.#framed.closed)
      return Promise.reject(new TandemError('ERR_PEER_UNREACHABLE', 'content link closed'))
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      this.#queue.push({ id, size, temp, resolve, reject })
      this.#framed.send({ type: 'fetch', id, name, hash })
    })
  }

  close(): void {
    this.#framed.destroy()
  }

  #onControl(message: unknown, welcomed: () => void): void {
    if (PeerConnector.isChallenge(message))
      return void this.#handshake(() => this.#auth.answer(message))
    const parsed = peerPushSchema.safeParse(message)
    if (!parsed.success) return this.#broken('malformed message from peer')
    const m = parsed.data
    if (m.type === 'peer-welcome') {
      if (this.#handshake(() => this.#auth.welcomed(m.server))) welcomed()
      return
    }
    if (m.type === 'error') {
      this.#failure = TandemError.fromWire(m.error as never)
      return this.#framed.destroy()
    }
    if (m.type !== 'content') return
    const head = this.#queue[0]
    if (!head || head.id !== m.id || head.header) return this.#broken('answer out of order')
    if (!m.ok) {
      this.#queue.shift()
      const wire = m.error ?? { code: 'ERR_INTERNAL', message: 'no reason given' }
      return head.reject(
        wire.code === 'ERR_NOT_FOUND'
          ? new Superseded('ERR_NOT_FOUND', wire.message)
          : TandemError.fromWire(wire as never),
      )
    }
    // The size is the entry's: a peer may not stream more (or other) than it announced.
    if (m.size !== head.size) return this.#broken(`announced ${head.size} bytes, sends ${m.size}`)
    head.header = { size: m.size, mtime: m.mtime ?? 0 }
  }

  #onData(piece: Buffer): void {
    const head = this.#queue[0]
    if (!head?.header) return this.#broken('data without a header')
    head.received = (head.received ?? 0) + piece.length
    this.onActivity()
    if (head.received > head.header.size) return this.#broken('more data than announced')
    this.#unwritten += piece.length
    if (this.#unwritten > PAUSE_ABOVE) this.#framed.socket.pause()
    this.#gathered.push(piece)
    this.#gatheredBytes += piece.length
    if (this.#gatheredBytes >= WRITE_AT) this.#writeGathered(head)
  }

  /** Socket reads are small (64 KiB): one vectored write per MiB costs far fewer syscalls. */
  #writeGathered(head: Pending): void {
    const pieces = this.#gathered
    const bytes = this.#gatheredBytes
    this.#gathered = []
    this.#gatheredBytes = 0
    if (bytes === 0) return
    head.writing = (head.writing ?? Promise.resolve()).then(async () => {
      try {
        await head.temp.write(pieces)
      } catch (err) {
        head.reject(err as Error)
      }
      this.#unwritten -= bytes
      if (this.#unwritten < RESUME_BELOW) this.#framed.socket.resume()
    })
  }

  #onEnd(): void {
    const head = this.#queue.shift()
    if (!head?.header) return this.#broken('end without a header')
    this.#writeGathered(head)
    const header = head.header
    void (head.writing ?? Promise.resolve()).then(() => head.resolve(header))
  }

  /** A step of the handshake (protocol/handshake.ts); false when the peer is refused (ERR_AUTH). */
  #handshake(step: () => unknown): boolean {
    if (this.#welcomedYet) {
      this.#broken('a handshake message after the welcome')
      return false
    }
    try {
      const reply = step()
      if (reply) this.#framed.send(reply)
      else this.#welcomedYet = true
      return true
    } catch (err) {
      this.#failure = err as TandemError
      this.#framed.send(PeerConnector.refusal(err as TandemError))
      this.#framed.socket.end()
      return false
    }
  }

  #broken(why: string): void {
    this.#failure = new TandemError('ERR_BAD_FRAME', `peer content channel: ${why}`)
    this.#framed.destroy()
  }
}
