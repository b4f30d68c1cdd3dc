/**
 * The file-exchange port: peers connect here for two kinds of channel. An index
 * channel streams this server's index entries changed since the peer's last look, then every new
 * one as it is stored, with a heartbeat each second. A content channel answers pipelined fetches
 * by name and SHA-256, in order, streaming the file with backpressure; the receiver checks the
 * hash, so a file changed while it was read is refused there, never stored torn. Every channel
 * starts with the peer's hello and, with a cluster key, the key proven both ways: a peer that
 * cannot prove it gets ERR_AUTH and never an entry or a byte.
 */
import net from 'node:net'
import { Limits } from '../../protocol/constants.js'
import {
  acceptPeer,
  peerHelloSchema,
  replicasField,
  replicasMismatch,
  type ExchangeChannel,
  type PeerAcceptance,
} from '../../protocol/handshake.js'
import { peerRequestSchema, type WireFileEntry } from '../../protocol/peer-messages.js'
import { toWireError } from '../../protocol/errors.js'
import type { UserLock } from '../../protocol/messages.js'
import type { FileIndex } from '../index/file-index.js'
import type { LockChanges } from './user-locks/lock-changes.js'
import type { FileStore } from '../storage/file-store.js'
import { fail, send, type Channel } from './channel.js'
import { contentChannel } from './content-server.js'
import { FramedSocket } from './framed-socket.js'

const BATCH = 500
const HEARTBEAT_MS = 1_000
const HELLO_TIMEOUT_MS = 10_000

export interface ExchangeOptions {
  self: string
  index: FileIndex
  store: FileStore
  /** Null while syncing runs; else why this server refuses to sync (channels are refused). */
  refusal(): string | null
  onClockReport(peer: string, skewMs: number): void
  /** The cluster key every channel's peer must prove (null: none; see protocol/handshake.ts). */
  clusterKey: string | null
  /** --replicas, which an index channel's peer must share (null: a copy on every member). */
  replicas: number | null
  /**
   * A peer refused with ERR_AUTH or ERR_REPLICAS_MISMATCH (`code`; `peer`: the name its hello
   * gave): for the console and the log.
   */
  onRefused(peer: string, reason: string, code: string): void
  /** This server's user locks, told to each subscriber (after its catch-up, then on change). */
  locks?: LockChanges
  /** The clients this server serves now, told in each heartbeat. */
  clients?(): number
  /** `peer` opened an index channel here (its handshake passed): it is up, whatever our link says. */
  onPeerUp?(peer: string): void
  warn(message: string): void
}

export interface ExchangeServer {
  readonly server: net.Server
  /** End every peer channel now (they reconnect, and are refused if this server refuses). */
  dropConnections(): void
}

export function createExchangeServer(o: ExchangeOptions): ExchangeServer {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    let channel: Channel | undefined
    /** The handshake's next step (its proof), or 'failed': nothing more is read. */
    let awaiting: Step | 'failed' | undefined
    const framed = new FramedSocket(
      socket,
      {
        onControl: (message) => {
          if (awaiting === 'failed') return
          if (!channel) {
            const step = awaiting ? awaiting(message) : open_(framed, message, o)
            awaiting = typeof step === 'function' ? step : step ? undefined : 'failed'
            if (typeof step === 'object') channel = step
            return
          }
          const parsed = peerRequestSchema.safeParse(message)
          if (!parsed.success) return fail(framed, 'ERR_BAD_REQUEST', 'malformed peer request')
          channel.request(parsed.data)
        },
        onClose: () => channel?.close(),
      },
      // Peers send small requests; only the answers (index batches) are large. Until the
      // handshake is done, a frame is at most a hello's size.
      { maxControl: Limits.maxHello, serving: true },
    )
    // A connection that never says hello does not keep a socket here.
    const helloTimer = setTimeout(() => channel ?? framed.destroy(), HELLO_TIMEOUT_MS)
    helloTimer.unref()
  })
  return {
    server,
    dropConnections: () => {
      for (const socket of sockets) socket.destroy()
    },
  }
}

/**
 * The handshake's next step: it takes the peer's next message, and returns the open channel, a
 * further step, or undefined when the peer was refused (answered with the code; the connection
 * ends).
 */
type Step = (message: unknown) => Channel | Step | undefined

/**
 * A connection's first message, its peer-hello; with a cluster key on either side, our challenge
 * goes out and its proof is the next step (protocol/handshake.ts).
 */
function open_(
  framed: FramedSocket,
  message: unknown,
  o: ExchangeOptions,
): Channel | Step | undefined {
  const hello = peerHelloSchema.safeParse(message)
  if (!hello.success) return void fail(framed, 'ERR_BAD_REQUEST', 'expected a peer hello')
  const { server: peer, channel, nonce, replicas } = hello.data
  // Two servers of one name would share a version-vector counter: their edits would look equal.
  if (peer === o.self)
    return void fail(framed, 'ERR_BAD_REQUEST', `a peer is named '${o.self}' like this server`)
  let acceptance: PeerAcceptance
  try {
    acceptance = acceptPeer(o.clusterKey, o.self, channel, peer, nonce)
  } catch (err) {
    return void refuse(framed, o, peer, err)
  }
  // The key proven, an index channel's peer must keep as many copies as we do. A content
  // channel is only opened by a link whose index channel was welcomed, and serves what the key
  // already allows: it is not asked.
  const agreed = (): Channel | undefined => {
    const mismatch =
      channel === 'index' ? replicasMismatch(o.self, o.replicas, peer, replicas) : null
    if (mismatch) return void refuse(framed, o, peer, mismatch)
    return welcome(framed, peer, channel, o)
  }
  if (acceptance.kind === 'open') return agreed()
  send(framed, acceptance.challenge)
  return (proof) => {
    try {
      acceptance.check(proof)
    } catch (err) {
      return void refuse(framed, o, peer, err)
    }
    return agreed()
  }
}

/**
 * A failed handshake: its code to the peer; an ERR_AUTH or ERR_REPLICAS_MISMATCH is reported
 * (console, change log).
 */
function refuse(framed: FramedSocket, o: ExchangeOptions, peer: string, err: unknown): void {
  const error = toWireError(err)
  const code =
    error.code === 'ERR_AUTH' || error.code === 'ERR_REPLICAS_MISMATCH'
      ? error.code
      : 'ERR_BAD_REQUEST'
  if (code !== 'ERR_BAD_REQUEST') o.onRefused(peer, error.message, code)
  fail(framed, code, error.message)
}

/** The handshake is done: welcome the peer and open its channel (or refuse: sync refused). */
function welcome(
  framed: FramedSocket,
  peer: string,
  channel: ExchangeChannel,
  o: ExchangeOptions,
): Channel | undefined {
  const refusal = o.refusal()
  if (refusal) return void fail(framed, 'ERR_SYNC_REFUSED', refusal)
  framed.limitControl(Limits.maxRequestControl)
  send(framed, {
    type: 'peer-welcome',
    server: o.self,
    epoch: o.index.epoch,
    time: Date.now(),
    ...replicasField(o.replicas),
  })
  if (channel !== 'index') return contentChannel(framed, o)
  o.onPeerUp?.(peer)
  return indexChannel(framed, peer, o)
}

function indexChannel(framed: FramedSocket, peer: string, o: ExchangeOptions): Channel {
  let unsubscribe: (() => void) | undefined
  let unlisten: (() => void) | undefined
  const heartbeat = setInterval(
    () =>
      send(framed, {
        type: 'heartbeat',
        time: Date.now(),
        seq: o.index.seq,
        ...(o.clients ? { clients: o.clients() } : {}),
      }),
    HEARTBEAT_MS,
  )
  return {
    request(message) {
      if (message.type === 'clock') return o.onClockReport(peer, message.skewMs)
      if (message.type === 'ack') {
        if (!unsubscribe) return fail(framed, 'ERR_BAD_REQUEST', 'an ack before the subscribe')
        if (message.seq > (o.index.peerAcked(peer) ?? 0)) o.index.recordAck(peer, message.seq)
        return
      }
      if (message.type !== 'subscribe' || unsubscribe)
        return fail(framed, 'ERR_BAD_REQUEST', 'an index channel takes one subscribe')
      // A cursor past our sequence means this index lost its last writes (a power cut, a backup
      // restored): send everything again rather than hide what reuses those numbers.
      let cursor =
        message.epoch === o.index.epoch && message.since <= o.index.seq ? message.since : 0
      // Where it starts is what it has: the backlog `status` shows for it counts from here.
      o.index.recordAck(peer, cursor)
      // Catch up synchronously, then follow: nothing can be stored in between.
      for (;;) {
        const entries = o.index.since(cursor, BATCH)
        if (entries.length === 0) break
        cursor = entries[entries.length - 1]!.seq
        sendEntries(framed, o, entries)
      }
      if (cursor === 0) sendEntries(framed, o, []) // an empty index still answers
      // Entries stored in one turn of the event loop go out as one message.
      let pending: WireFileEntry[] = []
      unsubscribe = o.index.onStored((entries) => {
        if (pending.length === 0)
          setImmediate(() => {
            const batch = pending
            pending = []
            sendEntries(framed, o, batch)
          })
        pending.push(...entries)
      })
      if (o.locks) {
        const tell = (locks: readonly UserLock[]): void =>
          send(framed, {
            type: 'locks',
            locks: locks.map((l) => ({
              name: l.name,
              owner: l.owner,
              since: l.since,
              expiresAt: l.expiresAt,
              queued: l.queued,
            })),
          })
        tell(o.locks.list())
        unlisten = o.locks.listen(tell)
      }
    },
    close() {
      clearInterval(heartbeat)
      unsubscribe?.()
      unlisten?.()
    },
  }
}

function sendEntries(
  framed: FramedSocket,
  o: ExchangeOptions,
  entries: readonly WireFileEntry[],
): void {
  send(framed, {
    type: 'entries',
    epoch: o.index.epoch,
    entries: entries.map((e) => wire(e, o.replicas !== null)),
    seq: o.index.seq,
  })
}

/**
 * Only the fields the wire schema knows (the index's rows carry local fingerprints too). The
 * placement fields go only with --replicas: a server without it speaks to one that predates
 * partial replication exactly as before (that one's schema refuses fields it does not know, and
 * would drop every entry), and an absent `held` means "held" to every receiver.
 */
function wire(e: WireFileEntry, placement: boolean): WireFileEntry {
  return {
    name: e.name,
    size: e.size,
    mtime: e.mtime,
    hash: e.hash,
    deleted: e.deleted,
    version: e.version,
    origin: e.origin,
    seq: e.seq,
    renamedFrom: e.renamedFrom ?? null,
    // The client request that made it (a rid and its answer): peers answer its replays.
    ...(e.request ? { request: e.request } : {}),
    // Placement: the file's id and creator, and whether this server holds this version.
    ...(placement && e.fileId ? { fileId: e.fileId } : {}),
    ...(placement && e.creator ? { creator: e.creator } : {}),
    ...(placement && e.held !== undefined ? { held: e.held } : {}),
  }
}
