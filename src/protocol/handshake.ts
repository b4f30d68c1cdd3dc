/**
 * The handshake, one module for every side: the client's hello and the server's welcome on the
 * control port, a peer's hello there and on the file-exchange port, and the cluster key's
 * challenge–response. Pure: no sockets, files or threads (node:crypto only); the hello gate, the
 * file-exchange port and the peer links drive it with the messages they read.
 *
 * With a cluster key, each peer connection (the control-port handshake, each index and content
 * channel) proves the key both ways before anything else crosses it:
 *   connector → acceptor  hello / peer-hello with `nonce` (32 fresh random bytes)
 *   acceptor → connector  `challenge`: its own fresh nonce and its proof
 *   connector → acceptor  `proof` (after checking the acceptor's), or an ERR_AUTH error
 *   acceptor → connector  the welcome (peer-welcome), or an ERR_AUTH error
 * A proof is HMAC-SHA256 under the key over a label, the prover's side, the channel, both names
 * and both nonces: it is worth nothing on another connection, channel, name pair or direction,
 * and the key itself never travels. Proofs are compared with crypto.timingSafeEqual.
 *
 * Every member of a cluster keeps the same number of copies of each file (`--replicas`): a peer's
 * hello and the welcome to a peer say it (absent: a copy on every member, as a server that
 * predates partial replication does), and either side refuses a mismatch with
 * ERR_REPLICAS_MISMATCH once the key is proven (`replicasMismatch`).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { TandemError, type Holder, type WireError } from './errors.js'

/** The shortest cluster key accepted (bytes): shorter ones are refused at startup. */
export const CLUSTER_KEY_MIN_BYTES = 16
/** Bytes of randomness in each side's nonce. */
export const NONCE_BYTES = 32
const PROOF_BYTES = 32 // SHA-256
/** Domain separation: a MAC made for anything else never passes for a proof. */
const PROOF_LABEL = 'tandem cluster key proof v1'

/*
 * The hello, peer-hello, challenge and proof are checked by hand, not with zod: the main thread
 * and the sync worker read them, and zod costs every thread that loads it ~6 MiB resident
 * (ARCHITECTURE.md, "Memory"). Each check is a strict object's (unknown keys refused); the
 * callers answer a failure with their own error. (The welcome, read by clients with the other
 * server messages, is in messages.ts; a peer reads it with controlReplySchema, below.)
 */

/** What a check returns: the message as the type says, or a failure (its caller says why). */
export type Checked<T> = { success: true; data: T } | { success: false }

/** A message check with zod's `safeParse` shape, for the few shapes read before a session. */
export interface MessageCheck<T> {
  safeParse(value: unknown): Checked<T>
}

type Record_ = Record<string, unknown>

function strictCheck<T>(keys: readonly string[], valid: (m: Record_) => boolean): MessageCheck<T> {
  return {
    safeParse(value) {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        return { success: false }
      const m = value as Record_
      for (const key of Object.keys(m)) if (!keys.includes(key)) return { success: false }
      if (!valid(m)) return { success: false }
      // A copy without absent (undefined) fields, as zod's parse gave.
      const data: Record_ = {}
      for (const key of keys) if (m[key] !== undefined) data[key] = m[key]
      return { success: true, data: data as T }
    },
  }
}

const isText = (v: unknown, min: number, max: number): v is string =>
  typeof v === 'string' && v.length >= min && v.length <= max
/** 32 bytes in standard base64 (44 characters, one '=' of padding). */
const isBase64Of32 = (v: unknown): boolean =>
  typeof v === 'string' && /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/.test(v)
const isServerName = (v: unknown): boolean => isText(v, 1, 64)
/** `--replicas`: the copies of each file a cluster keeps; absent from a message = every member. */
export const isReplicas = (v: unknown): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 64
const optional = (v: unknown, check: (v: unknown) => boolean): boolean =>
  v === undefined || check(v)

// ---- control port ---------------------------------------------------------------------------

export interface Hello {
  type: 'hello'
  role: 'client' | 'peer'
  /** The client id (or peer server name). */
  id: string
  software?: string
  /** A peer that holds a cluster key: its nonce (the server answers with a challenge). */
  nonce?: string
  /** A peer's --replicas (absent: a copy on every member). */
  replicas?: number
}

export const helloSchema: MessageCheck<Hello> = strictCheck<Hello>(
  ['type', 'role', 'id', 'software', 'nonce', 'replicas'],
  (h) =>
    h.type === 'hello' &&
    (h.role === 'client' || h.role === 'peer') &&
    isText(h.id, 1, 128) &&
    optional(h.software, (v) => isText(v, 0, 128)) &&
    optional(h.nonce, isBase64Of32) &&
    optional(h.replicas, isReplicas) &&
    // Only a peer sends a nonce or replicas.
    (h.role === 'peer' || (h.nonce === undefined && h.replicas === undefined)),
)

/**
 * What the control port's welcome adds for a peer: where to exchange files, the clock, and what
 * placement needs of the member (each absent from a server that predates partial replication).
 */
export interface PeerSyncInfo {
  port: number
  time: number
  /** Its --replicas (absent: a copy on every member). */
  replicas?: number
  /** Its HTTP API's port on the address the peer dialled (null: it has none). */
  http?: number | null
  /** The size of the file system of its data directory, GiB (statfs; at least 1). */
  capacity?: number
}

/** How busy the server is: clients served now (this one included) and its maximum. */
export interface ServerLoad {
  clients: number
  maxClients: number
}

export interface Welcome {
  type: 'welcome'
  server: { name: string; version: string }
  sessionId: string
  /** How many clients the server serves (a client that knows several picks the least loaded). */
  load?: ServerLoad
  /** To a peer only: its file-exchange port and clock (the peer then closes this connection). */
  sync?: PeerSyncInfo
}

/**
 * What a peer reads on the control port after its hello: the welcome, or an error; any other
 * server message (a response, an event) is no answer to a peer ('other'). Checked as messages.ts's
 * serverMessageSchema checks every server message (a malformed load, HTTP port or capacity is
 * taken as absent; a malformed --replicas is not), by hand: the sync worker reads it.
 */
export type ControlReply = Welcome | { type: 'error'; error: WireError } | { type: 'other' }

export const controlReplySchema: MessageCheck<ControlReply> = {
  safeParse(value) {
    const data = isFields(value) ? controlReply(value) : undefined
    return data ? { success: true, data } : { success: false }
  },
}

const isFields = (v: unknown): v is Record_ =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)
const isCount = (v: unknown, min: number): v is number =>
  Number.isSafeInteger(v) && (v as number) >= min

function controlReply(m: Record_): ControlReply | undefined {
  switch (m.type) {
    case 'welcome':
      return welcomeOf(m)
    case 'response':
      if (!isNumber(m.id)) return undefined
      // A result must be there (of any value).
      if (m.ok === true) return Object.hasOwn(m, 'result') ? { type: 'other' } : undefined
      return m.ok === false && wireErrorOf(m.error) ? { type: 'other' } : undefined
    case 'error': {
      const error = wireErrorOf(m.error)
      return error ? { type: 'error', error } : undefined
    }
    case 'event':
      return isFields(m.event) ? { type: 'other' } : undefined
    default:
      return undefined
  }
}

function welcomeOf(m: Record_): Welcome | undefined {
  const server = m.server
  if (!isFields(server) || typeof server.name !== 'string' || typeof server.version !== 'string')
    return undefined
  if (typeof m.sessionId !== 'string') return undefined
  const welcome: Welcome = {
    type: 'welcome',
    server: { name: server.name, version: server.version },
    sessionId: m.sessionId,
  }
  const load = m.load
  if (isFields(load) && isCount(load.clients, 0) && isCount(load.maxClients, 1))
    welcome.load = { clients: load.clients, maxClients: load.maxClients }
  if (m.sync === undefined) return welcome
  const sync = m.sync
  if (!isFields(sync) || !isNumber(sync.port) || !isNumber(sync.time)) return undefined
  if (!optional(sync.replicas, isReplicas)) return undefined
  const info: PeerSyncInfo = { port: sync.port, time: sync.time }
  if (sync.replicas !== undefined) info.replicas = sync.replicas as number
  const http = sync.http
  if (http === null || (isCount(http, 1) && http <= 65_535)) info.http = http
  if (isCount(sync.capacity, 1)) info.capacity = sync.capacity
  welcome.sync = info
  return welcome
}

/** A wire error as the server message schema reads it (unknown fields dropped). */
function wireErrorOf(v: unknown): WireError | undefined {
  if (!isFields(v) || typeof v.code !== 'string' || typeof v.message !== 'string') return undefined
  const error = { code: v.code, message: v.message } as WireError
  if (v.retryAfterMs !== undefined) {
    if (!isNumber(v.retryAfterMs)) return undefined
    error.retryAfterMs = v.retryAfterMs
  }
  if (v.holders !== undefined) {
    if (!Array.isArray(v.holders) || v.holders.length > 64) return undefined
    const holders: Holder[] = []
    for (const h of v.holders as unknown[]) {
      const holder = holderOf(h)
      if (!holder) return undefined
      holders.push(holder)
    }
    error.holders = holders
  }
  return error
}

function holderOf(h: unknown): Holder | undefined {
  if (!isFields(h) || !isText(h.name, 0, 255) || !isText(h.address, 0, 300)) return undefined
  if (!optional(h.http, (v) => isText(v, 0, 300))) return undefined
  if (!optional(h.up, (v) => typeof v === 'boolean')) return undefined
  const holder: Holder = { name: h.name, address: h.address }
  if (h.http !== undefined) holder.http = h.http as string
  if (h.up !== undefined) holder.up = h.up as boolean
  return holder
}

/** A client's hello. */
export function clientHello(id: string, software?: string): Hello {
  return software === undefined
    ? { type: 'hello', role: 'client', id }
    : { type: 'hello', role: 'client', id, software }
}

// ---- file-exchange port ---------------------------------------------------------------------

export type ExchangeChannel = 'index' | 'content'

export interface PeerHello {
  type: 'peer-hello'
  server: string
  channel: ExchangeChannel
  /** As in the control port's hello: the peer holds a cluster key. */
  nonce?: string
  /** As in the control port's hello: its --replicas (absent: a copy on every member). */
  replicas?: number
}

export const peerHelloSchema: MessageCheck<PeerHello> = strictCheck<PeerHello>(
  ['type', 'server', 'channel', 'nonce', 'replicas'],
  (h) =>
    h.type === 'peer-hello' &&
    isServerName(h.server) &&
    (h.channel === 'index' || h.channel === 'content') &&
    optional(h.nonce, isBase64Of32) &&
    optional(h.replicas, isReplicas),
)

export interface PeerWelcome {
  type: 'peer-welcome'
  server: string
  /** Identifies the index the sequence numbers count in (a new one after the index is reset). */
  epoch: string
  time: number
  /** Its --replicas (absent: a copy on every member). */
  replicas?: number
}

/**
 * Why a peer is refused, of the refusals that are reported (console, change log, the member's
 * state `refused` in status): the others are bad input.
 */
export type RefusalCode = 'ERR_AUTH' | 'ERR_REPLICAS_MISMATCH'

/** The `replicas` field a hello or welcome carries: none for a copy on every member. */
export function replicasField(k: number | null): { replicas?: number } {
  return k === null ? {} : { replicas: k }
}

function copiesKept(k: number | null): string {
  return k === null
    ? 'a copy on every member'
    : k === 1
      ? '1 copy of each file'
      : `${k} copies of each file`
}

/**
 * ERR_REPLICAS_MISMATCH when `peer`, which said it keeps `theirs` (undefined or null: a copy on
 * every member), disagrees with this server's `mine`; else null. Both names are in the message,
 * since either side may show it.
 */
export function replicasMismatch(
  self: string,
  mine: number | null,
  peer: string,
  theirs: number | null | undefined,
): TandemError | null {
  const other = theirs ?? null
  if (other === mine) return null
  return new TandemError(
    'ERR_REPLICAS_MISMATCH',
    `'${peer}' keeps ${copiesKept(other)}, '${self}' ${copiesKept(mine)} (--replicas): every member of a cluster must agree`,
  )
}

// ---- the cluster key's challenge–response ---------------------------------------------------

/** Which connection a proof is for: the control-port handshake or one file-exchange channel. */
export type AuthChannel = 'control' | ExchangeChannel

export interface Challenge {
  type: 'challenge'
  /** The acceptor's server name (bound into both proofs). */
  server: string
  nonce: string
  proof: string
}

export const challengeSchema: MessageCheck<Challenge> = strictCheck<Challenge>(
  ['type', 'server', 'nonce', 'proof'],
  (c) =>
    c.type === 'challenge' &&
    isServerName(c.server) &&
    isBase64Of32(c.nonce) &&
    isText(c.proof, 0, 256),
)

export interface Proof {
  type: 'proof'
  proof: string
}

export const proofSchema: MessageCheck<Proof> = strictCheck<Proof>(
  ['type', 'proof'],
  (p) => p.type === 'proof' && isText(p.proof, 0, 256),
)

/** Everything a proof is bound to. */
export interface ProofContext {
  channel: AuthChannel
  /** The server that opened the connection, and the one that accepted it. */
  connector: string
  acceptor: string
  connectorNonce: string
  acceptorNonce: string
}

export type ProofSide = 'connector' | 'acceptor'

/** A fresh nonce (base64). */
export function newNonce(): string {
  return randomBytes(NONCE_BYTES).toString('base64')
}

/** The proof `side` gives for `context` under `key` (base64 of an HMAC-SHA256). */
export function computeProof(key: Uint8Array | string, side: ProofSide, c: ProofContext): string {
  const mac = createHmac('sha256', key)
  // Each field length-prefixed: no two different contexts feed the MAC the same bytes.
  for (const field of [
    PROOF_LABEL,
    side,
    c.channel,
    c.connector,
    c.acceptor,
    c.connectorNonce,
    c.acceptorNonce,
  ]) {
    const bytes = Buffer.from(field, 'utf8')
    const length = Buffer.alloc(4)
    length.writeUInt32BE(bytes.length)
    mac.update(length).update(bytes)
  }
  return mac.digest('base64')
}

/** Whether `proof` is what `side` holding `key` gives for `context` (in constant time). */
export function verifyProof(
  key: Uint8Array | string,
  side: ProofSide,
  context: ProofContext,
  proof: string,
): boolean {
  const expected = Buffer.from(computeProof(key, side, context), 'base64')
  const given = decodeProof(proof)
  return given !== null && timingSafeEqual(given, expected)
}

function decodeProof(proof: string): Buffer | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(proof)) return null
  const bytes = Buffer.from(proof, 'base64')
  return bytes.length === PROOF_BYTES ? bytes : null
}

function authError(message: string): TandemError {
  return new TandemError('ERR_AUTH', message)
}

/** What the accepting side does with a peer's hello. */
export type PeerAcceptance =
  /** Neither side has a key: go on as without one. */
  | { kind: 'open' }
  /**
   * Send `challenge`; the peer's next message goes to `check`, which returns when it proves the
   * key and throws otherwise (ERR_AUTH for a wrong proof or the peer's own refusal,
   * ERR_BAD_REQUEST for a message that is no proof).
   */
  | { kind: 'challenge'; challenge: Challenge; check(message: unknown): void }

/**
 * The acceptor's first step, on `channel`, for a peer named `peer` whose hello carried `nonce`
 * (or none). Throws ERR_AUTH when the two cannot link: this server has a key and the peer sent
 * no nonce (it has none), or this server has none and the peer asks to prove one.
 */
export function acceptPeer(
  key: string | null,
  self: string,
  channel: AuthChannel,
  peer: string,
  nonce: string | undefined,
): PeerAcceptance {
  if (key === null && nonce === undefined) return { kind: 'open' }
  if (key === null)
    throw authError(
      `${peer} holds a cluster key and this server (${self}) has none: give both the same --cluster-key`,
    )
  if (nonce === undefined)
    throw authError(
      `${peer} has no cluster key and this server (${self}) requires one: give both the same --cluster-key`,
    )
  // A peer named like this server could hand our own challenge to our own dialling side and
  // bring back its proof (both would compute the same context): a reflection, never a peer.
  if (peer === self)
    throw authError(
      `a peer gives this server's own name (${self}): give each server its own --name (or the handshake is reflected)`,
    )
  const context: ProofContext = {
    channel,
    connector: peer,
    acceptor: self,
    connectorNonce: nonce,
    acceptorNonce: newNonce(),
  }
  const challenge: Challenge = {
    type: 'challenge',
    server: self,
    nonce: context.acceptorNonce,
    proof: computeProof(key, 'acceptor', context),
  }
  return {
    kind: 'challenge',
    challenge,
    check(message) {
      const refusal = peerRefusal(message)
      if (refusal) throw authError(`${peer} refused this server's proof: ${refusal}`)
      const parsed = proofSchema.safeParse(message)
      if (!parsed.success)
        throw new TandemError('ERR_BAD_REQUEST', 'expected the proof of the cluster key')
      if (!verifyProof(key, 'connector', context, parsed.data.proof))
        throw authError(`${peer} could not prove the cluster key (another key, or a forged proof)`)
    },
  }
}

/** The message of an `{type:'error'}` with ERR_AUTH, or null. */
function peerRefusal(message: unknown): string | null {
  if (typeof message !== 'object' || message === null) return null
  const m = message as { type?: unknown; error?: { code?: unknown; message?: unknown } }
  if (m.type !== 'error' || m.error?.code !== 'ERR_AUTH') return null
  return typeof m.error.message === 'string' ? m.error.message.slice(0, 300) : 'ERR_AUTH'
}

/**
 * The connecting side of one peer connection. Send `hello` fields (the nonce, with a key); the
 * acceptor's challenge goes to `answer`, which returns the proof to send; the welcome that ends
 * the handshake goes to `welcomed`. Both throw ERR_AUTH when the acceptor does not prove the
 * key (or proves one we do not hold, or skips the proof); then send `refusal(err)` to it before
 * closing, so that it logs the refusal too.
 */
export class PeerConnector {
  readonly #key: string | null
  readonly #self: string
  readonly #channel: AuthChannel
  readonly #nonce: string | undefined
  #proven = false

  constructor(key: string | null, self: string, channel: AuthChannel) {
    this.#key = key
    this.#self = self
    this.#channel = channel
    this.#nonce = key === null ? undefined : newNonce()
  }

  /** The fields the hello (or peer-hello) adds: the nonce, when this server has a key. */
  get helloFields(): { nonce?: string } {
    return this.#nonce === undefined ? {} : { nonce: this.#nonce }
  }

  /** Whether `message` is a challenge (the caller then hands it to `answer`). */
  static isChallenge(message: unknown): boolean {
    return (
      typeof message === 'object' &&
      message !== null &&
      (message as { type?: unknown }).type === 'challenge'
    )
  }

  /** Whether `message` is the acceptor's `{type:'error'}` (not to be answered with a refusal). */
  static isError(message: unknown): boolean {
    return (
      typeof message === 'object' &&
      message !== null &&
      (message as { type?: unknown }).type === 'error'
    )
  }

  answer(message: unknown): Proof {
    const parsed = challengeSchema.safeParse(message)
    if (!parsed.success) throw authError('malformed challenge from the peer')
    const challenge = parsed.data
    if (this.#key === null || this.#nonce === undefined)
      throw authError(
        `${challenge.server} asks for a cluster key and this server (${this.#self}) has none`,
      )
    if (this.#proven) throw authError(`${challenge.server} sent a second challenge`)
    // Our own name as the acceptor's: our challenge reflected back to us (see acceptPeer).
    if (challenge.server === this.#self)
      throw authError(
        `a challenge in this server's own name (${this.#self}): give each server its own --name (or the handshake is reflected)`,
      )
    const context: ProofContext = {
      channel: this.#channel,
      connector: this.#self,
      acceptor: challenge.server,
      connectorNonce: this.#nonce,
      acceptorNonce: challenge.nonce,
    }
    if (!verifyProof(this.#key, 'acceptor', context, challenge.proof))
      throw authError(
        `${challenge.server} could not prove the cluster key (another key, or a forged proof)`,
      )
    this.#proven = true
    return { type: 'proof', proof: computeProof(this.#key, 'connector', context) }
  }

  /** The acceptor welcomed us (`peer` is its name): without a proof, only if we have no key. */
  welcomed(peer: string): void {
    if (this.#key !== null && !this.#proven)
      throw authError(`${peer} did not prove the cluster key (it may have none)`)
  }

  /** What to send the acceptor when we refuse it. */
  static refusal(err: TandemError): { type: 'error'; error: { code: string; message: string } } {
    return { type: 'error', error: { code: err.code, message: err.message } }
  }
}
