/**
 * The file-exchange port: peers connect here for two kinds of channel. An index
 * channel streams this server's index entries changed since the peer's last look, then every new
 * one as it is stored, with a heartbeat each second. A content channel answers pipelined fetches
 * by name and SHA-256, in order, streaming the file with backpressure; the receiver checks the
 * hash, so a file changed while it was read is refused there, never stored torn.
 */
import net from 'node:net'
import {
  Limits,
  peerHelloSchema,
  peerRequestSchema,
  type WireFileEntry,
} from '../../protocol/index.js'
import type { UserLock } from '../../protocol/index.js'
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
  /** This server's user locks, told to each subscriber (after its catch-up, then on change). */
  locks?: LockChanges
  /** The clients this server serves now, told in each heartbeat. */
  clients?(): number
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
    const framed = new FramedSocket(
      socket,
      {
        onControl: (message) => {
          if (!channel) {
            channel = open_(framed, message, o)
            return
          }
          const parsed = peerRequestSchema.safeParse(message)
          if (!parsed.success) return fail(framed, 'ERR_BAD_REQUEST', 'malformed peer request')
          channel.request(parsed.data)
        },
        onClose: () => channel?.close(),
      },
      // Peers send small requests; only the answers (index batches) are large.
      { maxControl: Limits.maxRequestControl, serving: true },
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

function open_(framed: FramedSocket, message: unknown, o: ExchangeOptions): Channel | undefined {
  const hello = peerHelloSchema.safeParse(message)
  if (!hello.success) return void fail(framed, 'ERR_BAD_REQUEST', 'expected a peer hello')
  // Two servers of one name would share a version-vector counter: their edits would look equal.
  if (hello.data.server === o.self)
    return void fail(framed, 'ERR_BAD_REQUEST', `a peer is named '${o.self}' like this server`)
  const refusal = o.refusal()
  if (refusal) return void fail(framed, 'ERR_SYNC_REFUSED', refusal)
  send(framed, { type: 'peer-welcome', server: o.self, epoch: o.index.epoch, time: Date.now() })
  const peer = hello.data.server
  return hello.data.channel === 'index' ? indexChannel(framed, peer, o) : contentChannel(framed, o)
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
    entries: entries.map(wire),
    seq: o.index.seq,
  })
}

/** Only the fields the wire schema knows (the index's rows carry local fingerprints too). */
function wire(e: WireFileEntry): WireFileEntry {
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
  }
}
