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
import { createHash, type Hash } from 'node:crypto'
import { TandemError, normalizeName, toWireError, type WireError } from '../../protocol/index.js'
import type { ResolvedName } from '../storage/path-jail.js'
import { SMALL_BODY_BYTES, SmallBody, type SmallFile } from '../storage/small-file.js'
import type { TempFile } from '../storage/temp-file.js'
import { commit, precheck, type BodyRequest, type Committed } from './body.js'
import type { Conditions } from './conditions.js'
import type { OpsContext } from './context.js'
import { claimRequest, type Claim } from './once.js'
import { refuseConditions, withoutId, type ForwardedBody } from './forwarding.js'

export class BodyReceiver {
  readonly requestId: number
  readonly #req: BodyRequest | undefined
  readonly #conditions: Conditions | undefined
  /** Settles when the target is checked and the temp file open (never rejects). */
  readonly #ready: Promise<void>
  #temp: TempFile | undefined
  /** A small upload (storage/small-file.ts): held in memory, written whole at its end. */
  #small: SmallBody | undefined
  #sealed: SmallFile | undefined
  /** The announced size of a small upload: more than that is refused at once (memory). */
  readonly #smallLimit: number | undefined
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
  /** A replay's body, hashed as it is dropped: it must be the body its rid was applied with. */
  #replayHash: Hash | undefined
  /** At a secondary: the body goes to the primary as it arrives (no temp file here). */
  #forwarded: ForwardedBody | undefined
  /** Its SHA-256, for a front end that gives none (HTTP without Content-Digest). */
  #hash: Hash | undefined
  /** At a secondary: whether the name was new, as this server's copy shows it (HTTP's 201). */
  #created = false

  private constructor(
    requestId: number,
    req: BodyRequest | undefined,
    conditions: Conditions | undefined,
    prepare: () => Promise<void>,
  ) {
    this.requestId = requestId
    this.#req = req
    this.#conditions = conditions
    const size = req?.op === 'upload' ? req.size : undefined
    this.#smallLimit = size !== undefined && size <= SMALL_BODY_BYTES ? size : undefined
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
    // At a secondary the body leaves at once (its order with the next requests is kept), rid and
    // all: the primary, which applies it, answers a replay of it (ops/once.ts there).
    if (ctx.forward) return BodyReceiver.#forward(ctx, req, conditions)
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
      if (receiver.#smallLimit !== undefined) {
        if (!receiver.#discarded && !receiver.#error) receiver.#small = new SmallBody()
        return
      }
      const temp = await ctx.store.newTempFile(file)
      if (receiver.#discarded || receiver.#error) await temp.discard()
      else receiver.#temp = temp
    })
    receiver.#ctx = ctx
    return receiver
  }

  /**
   * At a secondary: stream the body to the primary as it arrives. Nothing is written here, so no
   * temp file; the primary checks the SHA-256 (the client's, or the one taken here) and answers
   * after its commit. Measured against receiving into a verified temp file first, then sending:
   * see benchmarks/roles.mjs (streaming adds one hop's latency, not a whole second transfer).
   */
  static #forward(ctx: OpsContext, req: BodyRequest, conditions?: Conditions): BodyReceiver {
    const forward = ctx.forward!
    // Sent now, not after an await: bodies reach the primary in the order their requests came
    // (an empty upload then an append to it must not swap).
    let forwarded: ForwardedBody | undefined
    let refusal: unknown
    let name = ''
    try {
      name = normalizeName(req.name)
      refuseConditions(forward, conditions)
      forwarded = forward.body({ ...withoutId(req), name })
    } catch (err) {
      refusal = err
    }
    const receiver: BodyReceiver = new BodyReceiver(req.id, req, undefined, async () => {
      if (refusal !== undefined) throw refusal
      if (req.op !== 'upload' && req.op !== 'write') return
      const file = await ctx.store.resolve(name).catch(() => undefined)
      receiver.#created = file !== undefined && !(await ctx.store.exists(file).catch(() => true))
    })
    receiver.#forwarded = forwarded
    receiver.#ctx = ctx
    receiver.#hash = createHash('sha256')
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
    if (this.#error || piece.length === 0) return
    // A replay's body is only hashed: at once, unless pieces taken before it was known wait.
    if (this.#replay && this.#pieces.length === 0) return void this.#hashReplay([piece])
    if (this.#replay) return void this.#pieces.push(Buffer.from(piece))
    this.#received += piece.length
    if (this.#smallLimit !== undefined && this.#received > this.#smallLimit)
      return this.#setError(
        new TandemError(
          'ERR_INTEGRITY',
          `'${this.name}': announced ${this.#smallLimit} bytes, received more`,
        ),
      )
    if (this.#hash) {
      // Forwarded: written out (and waited for) before the chunk goes back, so a view will do.
      this.#hash.update(piece)
      this.#pieces.push(piece)
      this.#holdsViews = true
    } else if (this.#temp || this.#small) {
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
    if (this.#hash) return this.#finishForwarded(ctx, sha256)
    try {
      await this.#flush()
      if (this.#replay) return this.#answerReplay(this.#replay)
      if (this.#error || !(this.#temp || this.#small) || !this.#req || !this.#file) {
        throw TandemError.fromWire(
          this.#error ?? { code: 'ERR_INTERNAL', message: 'body without a target' },
        )
      }
      const upload = this.#req.op === 'upload' ? this.#req : undefined
      const expected = { sha256, size: upload?.size, mtimeMs: upload?.mtime }
      let sealed: TempFile | SmallFile
      let digest: string
      if (this.#small) {
        const small = await this.#small.seal(this.#file.path, this.#file.name, expected)
        sealed = this.#sealed = small.file
        digest = small.sha256
      } else {
        sealed = this.#temp!
        digest = await this.#temp!.seal(expected)
      }
      const claim = this.#claim
      const committed = await commit(
        claim?.ctx ?? ctx,
        this.#req,
        this.#file,
        sealed,
        digest,
        this.#conditions,
      )
      await claim?.finished(committed)
      return committed
    } finally {
      await this.discard()
    }
  }

  async #finishForwarded(ctx: OpsContext, sha256: Buffer | undefined): Promise<Committed> {
    try {
      return await this.#sendEnd(ctx, sha256)
    } finally {
      await this.discard()
    }
  }

  async #sendEnd(ctx: OpsContext, sha256: Buffer | undefined): Promise<Committed> {
    await this.#flush()
    const forwarded = this.#forwarded
    if (this.#error || !forwarded || !this.#req)
      throw TandemError.fromWire(
        this.#error ?? { code: 'ERR_INTERNAL', message: 'body without a target' },
      )
    this.#forwarded = undefined
    const result = await forwarded.finish(sha256 ?? this.#hash!.digest())
    ctx.log(
      {
        op: this.#req.op,
        name: result.name,
        size: this.#received,
        detail: `forwarded to the primary ${ctx.forward?.primary ?? ''}`,
      },
      false,
    )
    return { result, created: this.#created }
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
    // Forwarded: the primary records the interruption (its connection is closed by discard()).
    if (
      req &&
      ctx &&
      !this.#hash &&
      !this.#error &&
      !this.#replay &&
      !this.#arrived &&
      !this.#discarded
    ) {
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
    this.#forwarded?.abort()
    this.#forwarded = undefined
    const temp = this.#temp
    this.#temp = undefined
    this.#small = undefined
    await temp?.discard()
    await this.#sealed?.discard()
    await this.#ready // a temp file opened after this call sees #discarded and is removed first
    this.#claim?.release() // a claim made while this waited
  }

  async #flush(): Promise<void> {
    await this.#ready
    const pieces = this.#pieces
    this.#pieces = []
    this.#holdsViews = false
    if (pieces.length === 0 || this.#error) return
    if (this.#replay) return this.#hashReplay(pieces)
    const sink = this.#forwarded ?? this.#temp ?? this.#small
    if (!sink) return
    try {
      await sink.write(pieces)
    } catch (err) {
      this.#setError(err)
      await this.discard()
    }
  }

  #hashReplay(pieces: readonly Buffer[]): void {
    this.#replayHash ??= createHash('sha256')
    for (const piece of pieces) this.#replayHash.update(piece)
  }

  /**
   * A replay's answer is the original one, if its body is the one the rid was applied with: a
   * rid (an Idempotency-Key) reused for another body is another request (ERR_BAD_REQUEST), not
   * one to answer as applied while its body is dropped.
   */
  #answerReplay(replay: Committed): Committed {
    const applied = (replay.result as { sha256?: unknown }).sha256
    const received = (this.#replayHash ?? createHash('sha256')).digest('hex')
    if (typeof applied === 'string' && applied !== received)
      throw new TandemError(
        'ERR_BAD_REQUEST',
        `the request id ${this.#req?.rid ?? ''} was used for another request (another body for '${replay.result.name}')`,
      )
    return replay
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
