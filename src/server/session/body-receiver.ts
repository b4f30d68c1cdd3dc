/**
 * The body of one upload/create/write/append as it arrives: pieces are batched into vectored
 * writes to the temp file. A request that already failed (bad name, ERR_EXISTS, disk full) keeps
 * consuming its body until the end frame, so the stream stays in step, then answers the error.
 */
import { TandemError, toWireError, type WireError, type WriteResult } from '../../protocol/index.js'
import type { ResolvedName } from '../storage/path-jail.js'
import type { TempFile } from '../storage/temp-file.js'
import { commit, precheck, type BodyRequest } from './body-ops.js'
import type { SessionContext } from './context.js'

export class BodyReceiver {
  readonly requestId: number
  #temp: TempFile | undefined
  #file: ResolvedName | undefined
  #error: WireError | undefined
  #pieces: Buffer[] = []
  readonly #req: BodyRequest | undefined

  private constructor(requestId: number, req: BodyRequest | undefined, error: WireError | undefined) {
    this.requestId = requestId
    this.#req = req
    this.#error = error
  }

  /** A receiver for a request that is refused before its body: the body is read and dropped. */
  static refused(requestId: number, error: WireError): BodyReceiver {
    return new BodyReceiver(requestId, undefined, error)
  }

  static async open(ctx: SessionContext, req: BodyRequest): Promise<BodyReceiver> {
    const receiver = new BodyReceiver(req.id, req, undefined)
    try {
      const file = await ctx.store.resolve(req.name)
      await precheck(ctx, req, file)
      receiver.#file = file
      receiver.#temp = await ctx.store.newTempFile(file)
    } catch (err) {
      receiver.#error = toWireError(err)
    }
    return receiver
  }

  /** Queue a piece (a view of a received chunk; written at the next flush). */
  add(piece: Buffer): void {
    if (this.#temp && piece.length > 0) this.#pieces.push(piece)
  }

  async flush(): Promise<void> {
    if (this.#pieces.length === 0 || !this.#temp) return
    const pieces = this.#pieces
    this.#pieces = []
    try {
      await this.#temp.write(pieces)
    } catch (err) {
      this.#error = toWireError(err)
      await this.discard()
    }
  }

  /** The end frame arrived: seal, verify and publish. Throws the request's error if it failed. */
  async finish(ctx: SessionContext, sha256: Buffer): Promise<WriteResult> {
    await this.flush()
    try {
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
    const temp = this.#temp
    this.#temp = undefined
    this.#pieces = []
    await temp?.discard()
  }
}
