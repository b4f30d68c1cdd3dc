/**
 * The body of one upload/create/write/append as it arrives. Opening the temp file runs in the
 * background while the first bytes are copied aside, so the session's read loop never waits on the
 * disk for a small body (a `put` of many small files streams at network speed, and the commits
 * overlap). Once the temp file is open, pieces are written straight from the received chunk (no
 * copy) with one vectored write per chunk, which the loop awaits before handing the chunk's buffer
 * back: that is what paces the socket. A request that already failed (bad name, ERR_EXISTS, disk
 * full) keeps consuming its body until the end frame, so the stream stays in step, then answers
 * the error.
 */
import { TandemError, normalizeName, toWireError, type WireError } from '../../protocol/index.js'
import type { ResolvedName } from '../storage/path-jail.js'
import type { TempFile } from '../storage/temp-file.js'
import { commit, precheck, type BodyRequest, type Committed } from './body.js'
import type { Conditions } from './conditions.js'
import type { OpsContext } from './context.js'
import { claimRequest, type Claim } from './once.js'

export class BodyReceiver {
  readonly requestId: number
  readonly #req: BodyRequest | undefined
  readonly #conditions: Conditions | undefined
  /** Settles when the target is checked and the temp file open (never rejects). */
  readonly #ready: Promise<void>
  #temp: TempFile | undefined
  #file: ResolvedName | undefined
  #error: WireError | undefined
  /** Pieces not yet written: copies, and (once the temp file is open) views of the current chunk. */
  #pieces: Buffer[] = []
  #holdsViews = false
  #discarded = false
  /** The body's bytes taken so far (what an interrupted upload moved). */
  #received = 0
  /** Set once the whole body arrived (finish): after that, it is no longer an interruption. */
  #arrived = false
  #ctx: OpsContext | undefined
  /** The request's rid, claimed (ops/once.ts); a replay's original answer. */
  #claim: Claim | undefined
  #replay: Committed | undefined

  private constructor(
    requestId: number,
    req: BodyRequest | undefined,
    conditions: Conditions | undefined,
    prepare: () => Promise<void>,
  ) {
    this.requestId = requestId
    this.#req = req
    this.#conditions = conditions
    this.#ready = prepare().catch((err: unknown) => this.#setError(err))
  }

  /** A receiver for a request refused before its body: the body is read and dropped. */
  static refused(requestId: number, error: WireError): BodyReceiver {
    const receiver = new BodyReceiver(requestId, undefined, undefined, async () => undefined)
    receiver.#error = error
    return receiver
  }

  /**
   * Start receiving `req`'s body. `settled(name)` waits for this session's earlier commits on the
   * same name (pipelining), so that, say, an append after an upload sees the upload.
   */
  static open(
    ctx: OpsContext,
    req: BodyRequest,
    settled: (name: string) => Promise<void> = async () => undefined,
    conditions?: Conditions,
  ): BodyReceiver {
    // Taken now, before this body's own commit can join the pipeline.
    const earlier = settled(canonical(req.name))
    const receiver: BodyReceiver = new BodyReceiver(req.id, req, conditions, async () => {
      const file = await ctx.store.resolve(req.name)
      receiver.#file = file
      // First, before any check: a replay of an applied request is answered as it was then.
      const claim = await claimRequest(ctx, req.rid, req.op, file.name)
      receiver.#claim = claim
      if (claim?.replay) {
        receiver.#replay = claim.replay.result as Committed
        return // its body is read and dropped
      }
      if (claim) receiver.#ctx = claim.ctx
      await earlier
      await precheck(claim?.ctx ?? ctx, req, file, conditions)
      const temp = await ctx.store.newTempFile(file)
      if (receiver.#discarded || receiver.#error) await temp.discard()
      else receiver.#temp = temp
    })
    receiver.#ctx = ctx
    return receiver
  }

  /** Why this body cannot be stored, once known (a front end that can answer early does). */
  get failure(): WireError | undefined {
    return this.#error
  }

  /** The target's canonical name ('' when the name is invalid). */
  get name(): string {
    return this.#req ? canonical(this.#req.name) : ''
  }

  /** Take a piece: a view into the current chunk, kept as is once the temp file is open. */
  add(piece: Buffer): void {
    if (this.#error || this.#replay || piece.length === 0) return
    this.#received += piece.length
    if (this.#temp) {
      this.#pieces.push(piece)
      this.#holdsViews = true
    } else {
      this.#pieces.push(Buffer.from(piece)) // the temp file is not open yet: keep a copy
    }
  }

  /**
   * Write every piece taken so far, once the temp file is open (a front end whose chunks are its
   * own, never recycled, calls this per batch: it also waits for the open, which bounds what is
   * held in memory before it).
   */
  async flush(): Promise<void> {
    await this.#flush()
  }

  /** Before the current chunk's buffer is handed back: write the pieces that point into it. */
  async releaseChunk(): Promise<void> {
    if (this.#holdsViews) await this.#flush()
  }

  /**
   * The whole body arrived: write the rest, seal, verify (against the sender's SHA-256, when it
   * gave one), publish. Rejects with the request's error.
   */
  async finish(ctx: OpsContext, sha256: Buffer | undefined): Promise<Committed> {
    this.#arrived = true
    try {
      await this.#flush()
      if (this.#replay) return this.#replay
      if (this.#error || !this.#temp || !this.#req || !this.#file) {
        throw TandemError.fromWire(
          this.#error ?? { code: 'ERR_INTERNAL', message: 'body without a target' },
        )
      }
      const upload = this.#req.op === 'upload' ? this.#req : undefined
      const digest = await this.#temp.seal({ sha256, size: upload?.size, mtimeMs: upload?.mtime })
      const claim = this.#claim
      const committed = await commit(
        claim?.ctx ?? ctx,
        this.#req,
        this.#file,
        this.#temp,
        digest,
        this.#conditions,
      )
      await claim?.finished(committed)
      return committed
    } finally {
      await this.discard()
    }
  }

  /**
   * The client went away (or its connection was closed) before the body's end: recorded as an
   * `upload-interrupted` with the bytes received, then dropped. Written here once for every front
   * end. A body refused or failed already (a bad name, a lock, a full disk) was answered with its
   * error: it is only dropped.
   */
  async abandon(): Promise<void> {
    await this.#ready
    const req = this.#req
    const ctx = this.#ctx
    if (req && ctx && !this.#error && !this.#replay && !this.#arrived && !this.#discarded) {
      ctx.log(
        {
          op: 'upload-interrupted',
          name: this.name,
          bytes: this.#received,
          size: req.op === 'upload' ? (req.size ?? null) : null,
          detail: req.op === 'upload' ? null : `a ${req.op}`,
        },
        true,
      )
    }
    await this.discard()
  }

  /** Drop the body; resolves once no temp file of it is left (one still being opened included). */
  async discard(): Promise<void> {
    this.#discarded = true
    this.#claim?.release() // given up unless recorded (a replay waiting here may then run)
    this.#pieces = []
    this.#holdsViews = false
    const temp = this.#temp
    this.#temp = undefined
    await temp?.discard()
    await this.#ready // a temp file opened after this call sees #discarded and is removed first
    this.#claim?.release() // a claim made while this waited
  }

  async #flush(): Promise<void> {
    await this.#ready
    const pieces = this.#pieces
    this.#pieces = []
    this.#holdsViews = false
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
    this.#holdsViews = false
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
