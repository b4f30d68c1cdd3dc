/**
 * A link to one member: a peer named by --peer, one found by discovery, or the primary (its
 * control port). Each round: a handshake on the control
 * port (role 'peer') tells the peer's name, its file-exchange port and its clock; then an index
 * channel on the file-exchange port subscribes to the peer's changes since the last one applied
 * here, and a content channel fetches what they need. A link that fails is retried with backoff;
 * the peer shows as down meanwhile, and catches up from where it left when it returns.
 */
import net from 'node:net'
import {
  PeerConnector,
  replicasField,
  replicasMismatch,
  type RefusalCode,
} from '../../protocol/handshake.js'
import { TandemError, isTandemError } from '../../protocol/errors.js'
import {
  fileEntrySchema,
  peerPushSchema,
  type PeerLock,
  type WireFileEntry,
} from '../../protocol/peer-messages.js'
import type { MemberStatus, PeerStatus } from '../../protocol/messages.js'
import type { FileIndex } from '../index/file-index.js'
import type { ContentSink } from '../storage/sealed-file.js'
import type { Applier, PeerSource } from './applier.js'
import { Backlog } from './backlog.js'
import { ContentClient } from './content-client.js'
import { EntryQueue } from './entry-queue.js'
import { FramedSocket } from './framed-socket.js'
import { handshake, type RemoteInfo } from './peer-handshake.js'

const BACKOFF_MIN_MS = 200
const BACKOFF_MAX_MS = 5_000
/** At most this many of a member's addresses are kept (the one in use first). */
const ADDRESSES_KEPT = 4
export const CLOCK_SKEW_WARN_MS = 2_000
const RETRY_MIN_MS = 500
const RETRY_MAX_MS = 30_000

export type MemberSource = MemberStatus['source']

export interface PeerLinkOptions {
  address: string
  /** How this member came to be known (default 'static': a --peer). */
  source?: MemberSource
  /** Its name, when known before any handshake (discovery tells it). */
  name?: string
  self: string
  /** The cluster key this link proves and asks the peer to prove (null: none). */
  clusterKey: string | null
  /** This server's --replicas, which the member must share (null or absent: every member). */
  replicas?: number | null
  index: FileIndex
  applier: Applier
  /** No heartbeat (nor anything else) on the index channel for this long: the link is dead. */
  peerTimeoutMs: number
  /**
   * A handshake told the member's name: false when another link already has that name (the same
   * server reached at two addresses), and this link then ends.
   */
  onNamed?(link: PeerLink, name: string): boolean
  onUp(peer: string): void
  onDown(peer: string, reason: string): void
  /**
   * The member refused us, or we it: for the cluster key (ERR_AUTH) or another --replicas
   * (ERR_REPLICAS_MISMATCH), `code`. Told once per run of refusals.
   */
  onRefused?(peer: string, reason: string, code: RefusalCode): void
  onClockSkew(peer: string, skewMs: number): void
  /** The peer's user locks, as it announced them (they replace the earlier ones). */
  onLocks?(peer: string, locks: PeerLock[]): void
  /** The peer's index was made anew (a new epoch): it sends everything again, numbered anew. */
  onNewEpoch?(peer: string): void
  warn(message: string): void
}

export class PeerLink implements PeerSource {
  readonly #o: PeerLinkOptions
  #host = ''
  #port = 0
  /** Where it is reached, the one in use first. */
  #addresses: string[] = []
  readonly source: MemberSource
  #name: string | null = null
  /** Its name from an earlier handshake (kept in the index), until this run's handshake. */
  #known: string | null = null
  #up = false
  /** A round has ended (up or not): the member is no longer just 'connecting'. */
  #tried = false
  #refused: string | null = null
  /** What the last welcome told of the member (null until a handshake has). */
  #remote: RemoteInfo | null = null
  #downReason: string | null = null
  /** The clients it serves, from its last heartbeat. */
  #clients: number | null = null
  /** When anything last came from it, over every round. */
  #lastContact: number | null = null
  #lastHeard: number | null = null
  #peerSeq: number | null = null
  #applied = 0
  #skew: number | null = null
  #stopped = false
  #index: FramedSocket | undefined
  #content: Promise<ContentClient> | undefined
  #syncPort = 0
  /** This round's index channel was refused here for the cluster key. */
  #authFailure: Error | undefined
  #wake: (() => void) | undefined
  readonly #backlog = new Backlog()

  constructor(options: PeerLinkOptions) {
    this.#o = options
    this.source = options.source ?? 'static'
    this.#use(options.address)
    // The name met there before a restart: the backlog of a peer still down is known by it.
    this.#known = options.name ?? options.index.peerNameAt(options.address) ?? null
  }

  get name(): string {
    return this.#name ?? this.#known ?? this.address
  }

  /** The address in use (HOST:PORT of its control port). */
  get address(): string {
    return this.#addresses[0]!
  }

  /** The name it gave, or is known by (null while neither a handshake nor discovery told it). */
  get knownName(): string | null {
    return this.#name ?? this.#known
  }

  /** Connected, its handshake proven (a live link is never moved by an announcement). */
  get up(): boolean {
    return this.#up
  }

  /** Reach it at `address` from now on (the current connection, if up, stays). */
  moveTo(address: string): void {
    if (address === this.address) return
    this.#use(address)
    if (!this.#up) this.#wake?.()
  }

  /** It was heard from (it dialed us): if down and waiting out its backoff, try again now. */
  retryNow(): void {
    if (!this.#up) this.#wake?.()
  }

  /** It is reached at `address` too (kept after the one in use). */
  alsoAt(address: string): void {
    if (!this.#addresses.includes(address))
      this.#addresses = [...this.#addresses, address].slice(0, ADDRESSES_KEPT)
  }

  #use(address: string): void {
    const at = address.lastIndexOf(':')
    this.#host = address.slice(0, at)
    this.#port = Number(address.slice(at + 1))
    this.#addresses = [address, ...this.#addresses.filter((a) => a !== address)].slice(
      0,
      ADDRESSES_KEPT,
    )
  }

  /**
   * What the member's last welcome told: its --replicas, HTTP port and capacity (GiB); null
   * until a handshake has. Kept while it is down (the figures of its last round).
   */
  get remote(): RemoteInfo | null {
    return this.#remote
  }

  /** HOST:PORT of its HTTP API, on the host this link reaches it at (null: none, or not known). */
  get httpAddress(): string | null {
    const port = this.#remote?.http ?? null
    return port === null ? null : `${this.#host}:${port}`
  }

  /**
   * It refused us or we it (ERR_AUTH, or ERR_REPLICAS_MISMATCH: `code`), seen here or elsewhere
   * than this link's own rounds.
   */
  refused(reason: string, code: RefusalCode = 'ERR_AUTH'): void {
    if (this.#refused === reason) return
    this.#refused = reason
    this.#o.onRefused?.(this.name, reason, code)
  }

  start(): void {
    void this.#loop()
  }

  /** What `fetch` has received whole (status: a rename must move no content). */
  readonly #fetched = { files: 0, bytes: 0 }

  stop(): void {
    this.#stopped = true
    this.#index?.destroy()
    void this.#content?.then(
      (c) => c.close(),
      () => undefined,
    )
    this.#wake?.()
  }

  status(now = Date.now()): PeerStatus {
    const behind = this.#peerSeq === null ? null : Math.max(0, this.#peerSeq - this.#applied)
    // What waits for it here: our entries after the last one it acknowledged (up or down).
    const name = this.#name ?? this.#known
    const acked = name === null ? undefined : this.#o.index.peerAcked(name)
    return {
      address: this.address,
      name: this.#name,
      ...this.#backlog.state(this.#up, behind, now),
      lastHeard: this.#lastHeard,
      behind,
      backlog: acked === undefined ? null : this.#o.index.countSince(acked),
      clockSkewMs: this.#skew,
      fetched: { ...this.#fetched },
    }
  }

  /** The member as `status` lists it. */
  memberStatus(now = Date.now()): MemberStatus {
    const peer = this.status(now)
    const state = this.#up
      ? 'up'
      : this.#refused !== null
        ? 'refused'
        : this.#tried
          ? 'down'
          : 'connecting'
    return {
      name: this.knownName,
      addresses: [...this.#addresses],
      state,
      source: this.source,
      clients: this.#clients,
      lastContact: this.#lastContact,
      backlog: peer.backlog,
      behind: this.#up ? peer.behind : null,
      reason: state === 'refused' ? this.#refused : state === 'down' ? this.#downReason : null,
    }
  }

  /** Each action applied moves the link (a batch of many is progress before it ends). */
  onReport(): void {
    this.#backlog.progressed()
  }

  async fetch(
    name: string,
    hash: string,
    size: number,
    temp: ContentSink,
  ): Promise<{ size: number; mtime: number }> {
    let client = await this.#contentClient()
    if (client.closed) {
      this.#content = undefined
      client = await this.#contentClient()
    }
    const got = await client.fetch(name, hash, size, temp)
    this.#fetched.files++
    this.#fetched.bytes += got.size
    return got
  }

  #contentClient(): Promise<ContentClient> {
    this.#content ??= ContentClient.connect(
      this.#host,
      this.#syncPort,
      this.#o.self,
      () => this.#backlog.progressed(),
      this.#o.clusterKey,
    )
    const pending = this.#content
    pending.catch(() => {
      if (this.#content === pending) this.#content = undefined
    })
    return pending
  }

  async #loop(): Promise<void> {
    let backoff = BACKOFF_MIN_MS
    while (!this.#stopped) {
      let reason = 'unreachable'
      try {
        await this.#round(() => (backoff = BACKOFF_MIN_MS))
      } catch (err) {
        reason = (err as Error).message
        if (isTandemError(err, 'ERR_AUTH')) this.refused(reason)
        else if (isTandemError(err, 'ERR_REPLICAS_MISMATCH'))
          this.refused(reason, 'ERR_REPLICAS_MISMATCH')
      }
      this.#markDown(reason)
      void this.#content?.then(
        (c) => c.close(),
        () => undefined,
      )
      this.#content = undefined
      if (this.#stopped) return
      await new Promise<void>((resolve) => {
        this.#wake = resolve
        setTimeout(resolve, backoff).unref()
      })
      backoff = Math.min(backoff * 2, BACKOFF_MAX_MS)
    }
  }

  #markDown(reason: string): void {
    if (this.#up) this.#o.onDown(this.name, reason)
    this.#up = false
    this.#tried = true
    this.#downReason = reason
  }

  /** One connected period: handshake, subscribe, apply until the link fails. */
  async #round(connected: () => void): Promise<void> {
    const key = this.#o.clusterKey
    const replicas = this.#o.replicas ?? null
    const hello = await handshake(this.#host, this.#port, this.#o.self, key, replicas)
    if (hello.name === this.#o.self)
      throw new Error(
        `it is named '${hello.name}' like this server: give each server its own --name`,
      )
    if (this.#o.onNamed?.(this, hello.name) === false) {
      this.stop()
      throw new Error(`${hello.name} is a member already, at ${this.address}`)
    }
    this.#name = hello.name
    this.#o.index.rememberPeerName(this.address, hello.name)
    this.#lastContact = Date.now()
    this.#lastHeard = null
    this.#syncPort = hello.syncPort
    this.#skew = hello.skewMs
    this.#remote = { replicas: hello.replicas, http: hello.http, capacity: hello.capacity }
    if (Math.abs(hello.skewMs) > CLOCK_SKEW_WARN_MS) this.#o.onClockSkew(hello.name, hello.skewMs)
    const socket = net.connect({ host: this.#host, port: hello.syncPort })
    let failure: Error | undefined
    const queue = new EntryQueue((epoch, entries, lastSeq) => this.#apply(epoch, entries, lastSeq))
    const auth = new PeerConnector(key, this.#o.self, 'index')
    const closed = new Promise<void>((resolve) => {
      this.#index = new FramedSocket(socket, {
        onControl: (message) => {
          if (!this.#up && !this.#authenticate(auth, message)) return
          const parsed = peerPushSchema.safeParse(message)
          if (!parsed.success) return this.#index?.destroy(new Error('malformed message from peer'))
          this.#lastHeard = this.#lastContact = Date.now()
          const m = parsed.data
          if (m.type === 'peer-welcome') {
            // Checked again here: the control port and this one may be two servers' (a restart).
            const mismatch = replicasMismatch(this.#o.self, replicas, m.server, m.replicas)
            if (mismatch) return void this.#index?.destroy(mismatch)
            return this.#subscribe(m.server, m.epoch, hello.skewMs, connected)
          }
          if (m.type === 'error') return void (failure = TandemError.fromWire(m.error as never))
          if (m.type === 'heartbeat') {
            if (m.clients !== undefined) this.#clients = m.clients
            return this.#heard(m.seq)
          }
          if (m.type === 'locks') return this.#o.onLocks?.(this.name, m.locks)
          if (m.type !== 'entries') return
          this.#heard(m.seq)
          const entries = this.#valid(m.entries)
          this.#o.index.recordHoldings(this.name, entries)
          queue.push(m.epoch, entries, (err) => {
            failure ??= err
            this.#index?.destroy()
          })
        },
        onClose: (err) => {
          failure = this.#authFailure ?? failure ?? err
          this.#authFailure = undefined
          resolve()
        },
      })
      this.#index.send({
        type: 'peer-hello',
        server: this.#o.self,
        channel: 'index',
        ...auth.helloFields,
        ...replicasField(replicas),
      })
    })
    const timeout = this.#o.peerTimeoutMs
    const watchdog = setInterval(
      () => {
        if (this.#lastHeard !== null && Date.now() - this.#lastHeard > timeout)
          this.#index?.destroy(new Error(`no heartbeat for ${timeout / 1000} s`))
      },
      Math.min(1_000, timeout / 4),
    )
    try {
      await closed
      // Down from now on (status, member-left), not only once the batch in hand has ended: a
      // fetch from a peer gone silent can take until the content channel gives up.
      this.#markDown(failure?.message ?? 'link closed')
      // A fetch from a peer that went silent would never settle: end it, so the batch fails.
      void this.#content?.then(
        (c) => c.close(),
        () => undefined,
      )
      this.#content = undefined
      await queue.idle()
    } finally {
      clearInterval(watchdog)
    }
    throw failure ?? new Error('link closed')
  }

  /**
   * The index channel's handshake (protocol/handshake.ts): the peer's challenge is answered with
   * our proof, and its welcome — or anything else it sends before the welcome (entries, locks) —
   * must follow a proof when we hold a key. False: the message is spent (a challenge), or the
   * link is refused (ERR_AUTH, told to the peer too).
   */
  #authenticate(auth: PeerConnector, message: unknown): boolean {
    const kind = (message as { type?: unknown } | null)?.type
    if (kind === 'error') return true
    try {
      if (kind === 'challenge') this.#index?.send(auth.answer(message))
      else auth.welcomed(this.name)
      return kind !== 'challenge'
    } catch (err) {
      this.#authFailure = err as Error
      this.#index?.send(PeerConnector.refusal(err as TandemError))
      this.#index?.socket.end()
      return false
    }
  }

  /** Entries that pass the schema (canonical names, consistent fields); the others are reported. */
  #valid(raw: readonly unknown[]): WireFileEntry[] {
    const valid: WireFileEntry[] = []
    for (const item of raw) {
      const parsed = fileEntrySchema.safeParse(item)
      if (parsed.success) valid.push(parsed.data)
      else
        this.#o.warn(
          `ignored an invalid entry from ${this.name}: ${parsed.reason} (${JSON.stringify(item).slice(0, 120)})`,
        )
    }
    return valid
  }

  /** The peer's sequence is `seq`: what lies beyond what is applied here waits from now on. */
  #heard(seq: number): void {
    this.#peerSeq = seq
    if (seq > this.#applied) this.#backlog.announced(seq)
  }

  #subscribe(peer: string, epoch: string, skewMs: number, connected: () => void): void {
    const progress = this.#o.index.peerProgress(peer)
    const since = progress?.epoch === epoch ? progress.lastSeq : 0
    if (progress && progress.epoch !== epoch) {
      this.#o.index.forgetPeer(peer)
      this.#o.onNewEpoch?.(peer)
    }
    this.#applied = since
    this.#peerSeq = null
    this.#backlog.reset()
    this.#index?.send({ type: 'subscribe', since, epoch: progress?.epoch ?? null })
    if (Math.abs(skewMs) > CLOCK_SKEW_WARN_MS) this.#index?.send({ type: 'clock', skewMs: -skewMs })
    this.#up = true
    this.#refused = null
    this.#downReason = null
    connected()
    this.#o.onUp(peer)
  }

  async #apply(epoch: string, entries: WireFileEntry[], lastSeq: number): Promise<void> {
    if (entries.length > 0) await this.#applyRetrying(entries)
    this.#applied = Math.max(this.#applied, lastSeq)
    this.#backlog.applied(this.#applied)
    this.#o.index.recordProgress(this.name, { epoch, lastSeq: this.#applied })
    // Told back, so that the peer's `status` knows what still waits for us.
    this.#index?.send({ type: 'ack', seq: this.#applied })
  }

  /**
   * A batch that fails here (disk full, a lock held too long) is retried with backoff while the
   * link stays up; a failure of the peer itself ends the link (it resumes from the same place).
   */
  async #applyRetrying(entries: WireFileEntry[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#o.applier.applyBatch(this, entries)
      } catch (err) {
        const code = (err as { code?: unknown }).code
        if (this.#stopped || this.#index?.closed || code === 'ERR_PEER_UNREACHABLE') throw err
        if (attempt === 0)
          this.#o.warn(
            `cannot apply changes from ${this.name} yet (${String((err as Error).message)}); retrying`,
          )
        await new Promise((r) => setTimeout(r, Math.min(RETRY_MIN_MS * 2 ** attempt, RETRY_MAX_MS)))
      }
    }
  }
}
