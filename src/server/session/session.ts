/**
 * One client connection, inside a session worker. Owns the frame decoder and the
 * protocol state machine: requests, answered strictly in order (the preamble and the hello were
 * read, and the welcome sent, by the main thread's hello gate before the hand-over). Bytes arrive
 * from the main thread through the PortLink and are acknowledged once processed, which is what
 * paces the socket (backpressure end to end).
 */
import {
  BODY_OPS,
  FrameDecoder,
  Limits,
  RequestError,
  TandemError,
  encodeControl,
  parseRequest,
  toWireError,
  type Hello,
  type LogEntry,
  type Request,
  type WireError,
} from '../../protocol/index.js'
import { describeFailure } from '../console.js'
import { ForwardingLoop, forwardedVia } from '../forward/forward-chain.js'
import { PrimaryLink } from '../forward/primary-link.js'
import { VERSION } from '../version.js'
import { FileStore } from '../storage/file-store.js'
import { PortLink } from '../workers/port-link.js'
import type { SessionTask } from '../workers/messages.js'
import type { BodyRequest } from '../ops/body.js'
import { BodyReceiver } from '../ops/body-receiver.js'
import type { IndexView, OpsContext } from '../ops/context.js'
import { indexView } from '../ops/index-view.js'
import { CommitPipeline } from './commit-pipeline.js'
import { BodyBroken, NO_RESPONSE, runRequest, type Outbound } from './dispatch.js'
import { linkOutbound, mainContext } from './link-adapters.js'
import { LogFollow } from './log-follow.js'

type DecoderEvent =
  { k: 'control'; message: unknown } | { k: 'data'; piece: Buffer } | { k: 'end'; sha256: Buffer }

/** Commits in flight per session (see #commits). */
const COMMITS_IN_FLIGHT = 64
export class Session {
  readonly #task: SessionTask
  readonly #link: PortLink
  readonly #store: FileStore
  readonly #index: IndexView
  readonly #decoder: FrameDecoder
  readonly #abort = new AbortController()
  #events: DecoderEvent[] = []
  #state: 'ready' | 'closed' = 'ready'
  readonly #client: Hello
  #body: BodyReceiver | undefined
  #busy = false
  /**
   * Bodies being fsynced and published while the next ones arrive. 64: a `put` of 1,000 × 4 KiB
   * cost the server 1.5 ms of CPU a file against 1.9 ms with 16 (more of each turn's messages,
   * rid records, change-log entries and directory fsyncs are then shared). Small bodies are held
   * in memory until sealed: at most 64 × 64 KiB = 4 MiB a session.
   */
  readonly #commits = new CommitPipeline(COMMITS_IN_FLIGHT)
  #shutdownRequested = false
  /** This side closed the connection with an error (not the client going away). */
  #failed = false
  #lastActivity = Date.now()
  /** `log --follow` on this connection: its change-log entries, sent as `event` messages. */
  readonly #follow = new LogFollow(
    (entry) => this.#send({ type: 'event', event: entry }),
    () => this.#link.post({ t: 'follow' }),
  )
  /** Requests the server itself is working on (an unlock applying its queue): not idle. */
  #serverWork = 0
  /** At a secondary: this client's link to the primary, where its writes go (roles). */
  readonly #forward: PrimaryLink | ForwardingLoop | undefined
  #ctx: OpsContext | undefined
  #out: Outbound | undefined

  constructor(task: SessionTask) {
    this.#task = task
    this.#client = task.hello
    this.#link = new PortLink(task.port, {
      onActivity: () => this.touch(),
      onEvent: (entry) => this.onEvent(entry),
      onShutdown: () => this.onShutdown(),
      onClosed: () => this.onClosed(),
    })
    this.#store = new FileStore(task.config.root)
    this.#index = indexView(task.config.stateDir, task.config.serverName)
    const { primary, serverName } = task.config
    this.#forward = primary === null ? undefined : forwarder(task, primary, serverName)
    this.#decoder = new FrameDecoder(
      {
        onControl: (message) => this.#events.push({ k: 'control', message }),
        onData: (piece) => this.#events.push({ k: 'data', piece }),
        onEnd: (sha256) => this.#events.push({ k: 'end', sha256 }),
      },
      { expectPreamble: false, maxControl: Limits.maxRequestControl },
    )
  }

  // ---- called by the PortLink's handlers ---------------------------------------------------

  touch(): void {
    this.#lastActivity = Date.now()
  }

  onClosed(): void {
    this.#state = 'closed'
    this.#abort.abort()
  }

  onEvent(entry: LogEntry): void {
    this.#follow.push(entry)
  }

  onShutdown(): void {
    this.#shutdownRequested = true
    if (!this.#busy && !this.#body && this.#commits.size === 0)
      this.#fail(new TandemError('ERR_SHUTTING_DOWN', 'the server is stopping'))
  }

  // ---- the loop -----------------------------------------------------------------------------

  async run(): Promise<void> {
    const { idleTimeoutMs } = this.#task.config
    const idleTimer = setInterval(
      () => this.#checkIdle(),
      Math.max(50, Math.min(1000, idleTimeoutMs / 4)),
    )
    try {
      for (;;) {
        const chunk = await this.#link.nextChunk()
        if (chunk === null || this.#state === 'closed') break
        try {
          this.#decoder.push(Buffer.from(chunk.buf, chunk.offset, chunk.length))
        } catch (err) {
          await this.#drainEvents() // what was valid before the bad bytes is still answered
          this.#fail(err)
          break
        }
        await this.#drainEvents()
        // Nothing may still point into the chunk when its buffer goes back to the main thread.
        await this.#body?.releaseChunk()
        this.#link.ack(chunk)
      }
    } finally {
      clearInterval(idleTimer)
      try {
        await this.#commits.settled() // a commit under way finishes (its client may be gone)
        this.#abort.abort()
        // A body still arriving when the connection ended: an interrupted upload.
        await this.#body?.abandon()
        this.#forward?.close()
      } finally {
        // Whatever happened above: what is queued for the main thread (replies, unlocks, log
        // lines) leaves now, before the task's end does. The main thread closes the port once
        // the socket is closed; closing it here could drop bytes still queued on it.
        this.#link.closeConnection('session ended')
      }
    }
  }

  async #drainEvents(): Promise<void> {
    while (this.#events.length > 0 && this.#state !== 'closed') {
      const event = this.#events.shift()!
      if (event.k === 'data') {
        if (!this.#body)
          return this.#fail(new TandemError('ERR_BAD_FRAME', 'data frame outside a body'))
        this.#body.add(event.piece)
        continue
      }
      if (event.k === 'control') await this.#onControl(event.message)
      else await this.#onEnd(event.sha256)
    }
  }

  async #onControl(message: unknown): Promise<void> {
    if (this.#body)
      return this.#fail(
        new TandemError('ERR_BAD_FRAME', 'control frame inside a body (end frame expected)'),
      )
    let request: Request
    try {
      request = parseRequest(message)
    } catch (err) {
      return await this.#onBadRequest(err, message)
    }
    if (this.#shutdownRequested) return this.#refuseWhileStopping(request)
    if (BODY_OPS.has(request.op)) {
      this.#body = BodyReceiver.open(this.#context(), request as BodyRequest, (name) =>
        this.#commits.settled(name),
      )
      return
    }
    await this.#commits.settled()
    await this.#serve(request.id, () => runRequest(this.#context(), request, this.#outbound()))
  }

  async #onBadRequest(err: unknown, message: unknown): Promise<void> {
    if (!(err instanceof RequestError) || err.requestId === undefined) return this.#fail(err)
    const op = (message as { op?: unknown }).op
    // A refused body operation is still followed by its body: read it and drop it.
    if (typeof op === 'string' && BODY_OPS.has(op as Request['op'])) {
      this.#body = BodyReceiver.refused(err.requestId, err.toWire())
      return
    }
    await this.#commits.settled() // answers leave in request order
    this.#respondError(err.requestId, err.toWire())
  }

  /** While the server stops, new requests are answered ERR_SHUTTING_DOWN (bodies are dropped). */
  async #refuseWhileStopping(request: Request): Promise<void> {
    const error = new TandemError('ERR_SHUTTING_DOWN', 'the server is stopping').toWire()
    if (BODY_OPS.has(request.op)) {
      this.#body = BodyReceiver.refused(request.id, error)
      return
    }
    await this.#commits.settled()
    this.#respondError(request.id, error)
    this.onShutdown()
  }

  async #onEnd(sha256: Buffer): Promise<void> {
    const body = this.#body
    if (!body) return this.#fail(new TandemError('ERR_BAD_FRAME', 'end frame outside a body'))
    await body.releaseChunk()
    this.#body = undefined
    // The session failed the connection meanwhile (idle, shutdown): its client was told so, so
    // the body must not be applied behind its back.
    if (this.#failed) return body.abandon()
    const ctx = this.#context()
    await this.#commits.add(
      body.name,
      () =>
        body.finish(ctx, sha256).then(
          ({ result }) => ({ type: 'response', id: body.requestId, ok: true, result }) as const,
          (err: unknown) =>
            ({
              type: 'response',
              id: body.requestId,
              ok: false,
              error: this.#wireError(err),
            }) as const,
        ),
      (response) => {
        this.#send(response)
        this.touch()
        if (this.#shutdownRequested) this.onShutdown()
      },
    )
  }

  /** Run one request and answer it; afterwards honour a pending shutdown. */
  async #serve(id: number, run: () => Promise<unknown>): Promise<void> {
    this.#busy = true
    this.touch()
    try {
      const result = await run()
      if (result !== NO_RESPONSE) this.#send({ type: 'response', id, ok: true, result })
    } catch (err) {
      if (err instanceof BodyBroken) this.#fail(err.cause)
      else this.#respondError(id, this.#wireError(err))
    } finally {
      this.#busy = false
      this.touch()
    }
    if (this.#shutdownRequested) this.onShutdown()
  }

  #respondError(id: number, error: WireError): void {
    this.#send({ type: 'response', id, ok: false, error })
  }

  #wireError(err: unknown): WireError {
    const wire = toWireError(err)
    if (wire.code === 'ERR_INTERNAL')
      console.error(`[session ${this.#task.sessionId}] ${describeFailure(err).join('\n')}`)
    return wire
  }

  #send(message: unknown): void {
    this.#link.send([encodeControl(message)])
  }

  /** Send a connection-level error and close. */
  #fail(err: unknown): void {
    if (this.#state === 'closed') return
    this.#failed = true
    const error = this.#wireError(err)
    this.#send({ type: 'error', error })
    this.#state = 'closed'
    this.#link.closeConnection(`${error.code}: ${error.message}`)
  }

  #checkIdle(): void {
    if (this.#state === 'closed') return
    const idleMs = Date.now() - this.#lastActivity
    // A request in progress is not idle while bytes move (downloads count the client's reads);
    // a body upload whose client went silent is.
    if (
      idleMs > this.#task.config.idleTimeoutMs &&
      this.#commits.size === 0 &&
      this.#serverWork === 0
    ) {
      this.#fail(
        new TandemError('ERR_TIMEOUT', `connection idle for ${Math.round(idleMs / 1000)} s`),
      )
    }
  }

  #outbound(): Outbound {
    return (this.#out ??= linkOutbound(this.#link, (message) => this.#send(message), this.#follow))
  }

  /** The session's OpsContext: the same for each of its requests, so built once. */
  #context(): OpsContext {
    return (this.#ctx ??= this.#newContext())
  }

  #newContext(): OpsContext {
    const ctx = mainContext(this.#link, {
      config: this.#task.config,
      store: this.#store,
      client: this.#client,
      signal: this.#abort.signal,
      index: this.#index,
    })
    return {
      ...ctx,
      forward: this.#forward,
      // An unlock applying its queue is the server's work, not an idle client.
      userLock: async (request) => {
        this.#serverWork++
        try {
          return await ctx.userLock(request)
        } finally {
          this.#serverWork--
          this.touch()
        }
      },
    }
  }
}

/**
 * At a secondary, where this client's writes go: its link to the primary, or — for a client that
 * is a forwarding connection which already passed here (a loop of --primary) — a refusal.
 */
function forwarder(
  task: SessionTask,
  primary: string,
  serverName: string,
): PrimaryLink | ForwardingLoop {
  const via = forwardedVia(task.hello.software)
  if (via === null || via.includes(serverName))
    return new ForwardingLoop(primary, serverName, task.hello.software ?? '')
  return new PrimaryLink({ primary, clientId: task.hello.id, serverName, version: VERSION, via })
}
