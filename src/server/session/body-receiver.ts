/**
 * The body of one upload/create/write/append as it arrives. Opening the temp file runs in the
 * background while the first bytes are buffered, so the session's read loop never waits on the
 * disk for a small body (a `put` of many small files streams at network speed, and the commits
 * overlap). A large body is written in batches (vectored writes) that the loop awaits, which is
 * what paces the socket. A request that already failed (bad name, ERR_EXISTS, disk full) keeps
 * consuming its body until the end frame, so the stream stays in step, then answers the error.
 */
import { TandemError, normalizeName, toWireError, type WireError, type WriteResult } from '../../protocol/index.js'
import type { ResolvedName } from '../storage/path-jail.js'
import type { TempFile } from '../storage/temp-file.js'
import { commit, precheck, type BodyRequest } from './body-ops.js'
import type { SessionContext } from './context.js'

/** Buffered body bytes above which the read loop waits for them to reach the temp file. */
const WRITE_BATCH = 256 * 1024 // 256 KiB

export class BodyReceiver {
  readonly requestId: number
  readonly #req: BodyRequest | undefined
  /** Settles when the target is checked and the temp file open (never rejects). */
  readonly #ready: Promise<void>
  #temp: TempFile | undefined
  #file: ResolvedName | undefined
  #error: WireError | undefined
  #pieces: Buffer[] = []
  #buffered = 0
  #discarded = false

  private constructor(requestId: number, req: BodyRequest | undefined, prepare: () => Promise<void>) {
    this.requestId = requestId
    this.#req = req
    this.#ready = prepare().catch((err: unknown) => this.#setError(err))
  }

  /** A receiver for a request refused before its body: the body is read and dropped. */
  static refused(requestId: number, error: WireError): BodyReceiver {
    const receiver = new BodyReceiver(requestId, undefined, async () => undefined)
    receiver.#error = error
    return receiver
  }

  /**
   * Start receiving `req`'s body. `settled(name)` waits for this session's earlier commits on the
   * same name (pipelining), so that, say, an append after an upload sees the upload.
   */
  static open(ctx: SessionContext, req: BodyRequest, settled: (name: string) => Promise<void>): BodyReceiver {
    // Taken now, before this body's own commit can join the pipeline.
    const earlier = settled(canonical(req.name))
    const receiver: BodyReceiver = new BodyReceiver(req.id, req, async () => {
      const file = await ctx.store.resolve(req.name)
      receiver.#file = file
      await earlier
      await precheck(ctx, req, file)
      const temp = await ctx.store.newTempFile(file)
      if (receiver.#discarded || receiver.#error) await temp.discard()
      else receiver.#temp = temp
    })
    return receiver
  }

  /** The target's canonical name ('' when the name is invalid). */
  get name(): string {
    return this.#req ? canonical(this.#req.name) : ''
  }

  /** Queue a piece (a view of a received chunk, which this session owns). */
  add(piece: Buffer): void {
    if (this.#error || piece.length === 0) return
    this.#pieces.push(piece)
    this.#buffered += piece.length
  }

  /** Called by the read loop after each chunk: writes once a batch has gathered. */
  async maybeFlush(): Promise<void> {
    if (this.#buffered >= WRITE_BATCH) await this.#flush()
  }

  /** The end frame arrived: write the rest, seal, verify, publish. Rejects with the request's error. */
  async finish(ctx: SessionContext, sha256: Buffer): Promise<WriteResult> {
    try {
      await this.#flush()
      if (this.#error || !this.#temp || !this.#req || !this.#file) {
        throw TandemError.fromWire(this.#error ?? { code: 'ERR_INTERNAL', message: 'body without a target' })
      }
      const upload = this.#req.op === 'upload' ? this.#req : undefined
      const digest = await this.#temp.seal({ sha256, size: upload?.size, mtimeMs: upload?.mtime })
      return await commit(ctx, this.#req, this.#file, this.#temp, digest)
    } finally {
      await this.discard()
    }
  }

  async discard(): Promise<void> {
    this.#discarded = true
    this.#pieces = []
    this.#buffered = 0
    const temp = this.#temp
    this.#temp = undefined
    await temp?.discard()
  }

  async #flush(): Promise<void> {
    await this.#ready
    const pieces = this.#pieces
    this.#pieces = []
    this.#buffered = 0
    if (pieces.length === 0 || !this.#temp || this.#error) return
    try {
      await this.#temp.write(pieces)
    } catch (err) {
      this.#setError(err)
      await this.discard()
    }
  }

  #setError(err: unknown): void {
    this.#error ??= toWireError(err)
    this.#pieces = []
    this.#buffered = 0
  }
}

/** The canonical form of a name, or '' for an invalid one (which fails on its own later). */
function canonical(name: string): string {
  try {
    return normalizeName(name)
  } catch {
    return ''
  }
}
