/**
 * The file-exchange port (DESIGN.md §2): peers connect here for two kinds of channel. An index
 * channel streams this server's index entries changed since the peer's last look, then every new
 * one as it is stored, with a heartbeat each second. A content channel answers pipelined fetches
 * by name and SHA-256, in order, streaming the file with backpressure; the receiver checks the
 * hash, so a file changed while it was read is refused there, never stored torn.
 */
import { createHash } from 'node:crypto'
import { constants as fsConstants } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import net from 'node:net'
import {
  Limits,
  TandemError,
  peerHelloSchema,
  peerRequestSchema,
  type PeerPush,
  type PeerRequest,
  type WireFileEntry,
} from '../../protocol/index.js'
import { sameFingerprint, type LocalEntry } from '../index/entry.js'
import type { FileIndex } from '../index/file-index.js'
import type { FileStore } from '../storage/file-store.js'
import { FramedSocket } from './framed-socket.js'

const BATCH = 500
const HEARTBEAT_MS = 1_000

export interface ExchangeOptions {
  self: string
  index: FileIndex
  store: FileStore
  /** Null while syncing runs; else why this server refuses to sync (channels are refused). */
  refusal(): string | null
  onClockReport(peer: string, skewMs: number): void
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
    const framed = new FramedSocket(socket, {
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
    })
  })
  return {
    server,
    dropConnections: () => {
      for (const socket of sockets) socket.destroy()
    },
  }
}

interface Channel {
  request(message: PeerRequest): void
  close(): void
}

function open_(framed: FramedSocket, message: unknown, o: ExchangeOptions): Channel | undefined {
  const hello = peerHelloSchema.safeParse(message)
  if (!hello.success) return void fail(framed, 'ERR_BAD_REQUEST', 'expected a peer hello')
  const refusal = o.refusal()
  if (refusal) return void fail(framed, 'ERR_SYNC_REFUSED', refusal)
  send(framed, { type: 'peer-welcome', server: o.self, epoch: o.index.epoch, time: Date.now() })
  const peer = hello.data.server
  return hello.data.channel === 'index' ? indexChannel(framed, peer, o) : contentChannel(framed, o)
}

function indexChannel(framed: FramedSocket, peer: string, o: ExchangeOptions): Channel {
  let unsubscribe: (() => void) | undefined
  const heartbeat = setInterval(
    () => send(framed, { type: 'heartbeat', time: Date.now(), seq: o.index.seq }),
    HEARTBEAT_MS,
  )
  return {
    request(message) {
      if (message.type === 'clock') return o.onClockReport(peer, message.skewMs)
      if (message.type !== 'subscribe' || unsubscribe)
        return fail(framed, 'ERR_BAD_REQUEST', 'an index channel takes one subscribe')
      let cursor = message.epoch === o.index.epoch ? message.since : 0
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
    },
    close() {
      clearInterval(heartbeat)
      unsubscribe?.()
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

function contentChannel(framed: FramedSocket, o: ExchangeOptions): Channel {
  // Fetches are looked up and opened concurrently (small files read whole), then answered in
  // order: a burst of small files costs one round of disk look-ups, not one per file in turn.
  let order = Promise.resolve()
  return {
    request(message) {
      if (message.type !== 'fetch') return fail(framed, 'ERR_BAD_REQUEST', 'expected fetch')
      const prepared = prepare(o, message.name, message.hash)
      order = order
        .then(async () => answer(framed, message.id, message.name, await prepared))
        .catch((err: unknown) => {
          if (!framed.closed) o.warn(`content channel: ${String(err)}`)
          framed.destroy() // a body half-sent cannot be taken back
        })
    },
    close() {},
  }
}

const READ_WHOLE = 256 * 1024

/** An opened, checked copy of the content: read whole when small, else a handle to stream. */
interface Prepared {
  handle: FileHandle
  size: number
  mtime: number
  whole?: Buffer
}

async function prepare(o: ExchangeOptions, name: string, hash: string): Promise<Prepared | null> {
  const sources = [o.index.get(name), ...o.index.byHash(hash)].filter(
    (e): e is LocalEntry => !!e && !e.deleted && e.hash === hash,
  )
  for (const source of sources) {
    const opened = await openIfCurrent(o, source)
    if (!opened) continue
    if (opened.size > READ_WHOLE) return opened
    try {
      const whole = Buffer.allocUnsafe(opened.size)
      const { bytesRead } = await opened.handle.read(whole, 0, opened.size, 0)
      return { ...opened, whole: whole.subarray(0, bytesRead) }
    } finally {
      await opened.handle.close()
    }
  }
  return null
}

/** Open a file if it is still as indexed (else null: it changed since, and will be announced). */
async function openIfCurrent(o: ExchangeOptions, source: LocalEntry): Promise<Prepared | null> {
  let path: string
  try {
    path = (await o.store.resolve(source.name, { follow: false })).path
  } catch {
    return null
  }
  const flags = fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK
  const handle = await open(path, flags).catch(() => undefined)
  if (!handle) return null
  const st = await handle.stat()
  const fp = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino }
  if (st.isFile() && sameFingerprint(source.fingerprint, fp))
    return { handle, size: st.size, mtime: source.mtime }
  await handle.close()
  return null
}

async function answer(
  framed: FramedSocket,
  id: number,
  name: string,
  p: Prepared | null,
): Promise<void> {
  if (!p) {
    return send(framed, {
      type: 'content',
      id,
      ok: false,
      error: { code: 'ERR_NOT_FOUND', message: `no current copy of '${name}' with that content` },
    })
  }
  send(framed, { type: 'content', id, ok: true, size: p.size, mtime: p.mtime })
  const hash = createHash('sha256')
  if (p.whole) {
    hash.update(p.whole)
    if (p.whole.length > 0) await framed.sendData(p.whole)
    return framed.sendEnd(hash.digest())
  }
  try {
    let position = 0
    while (position < p.size) {
      const buf = Buffer.allocUnsafe(Math.min(Limits.dataChunk, p.size - position))
      const { bytesRead } = await p.handle.read(buf, 0, buf.length, position)
      if (bytesRead === 0) break // shrank while read: the receiver's size check fails it
      const piece = buf.subarray(0, bytesRead)
      hash.update(piece)
      await framed.sendData(piece)
      position += bytesRead
    }
    framed.sendEnd(hash.digest())
  } finally {
    await p.handle.close()
  }
}

function send(framed: FramedSocket, message: PeerPush): void {
  framed.send(message)
}

function fail(framed: FramedSocket, code: string, message: string): void {
  const error = new TandemError(
    code === 'ERR_SYNC_REFUSED' ? 'ERR_SYNC_REFUSED' : 'ERR_BAD_REQUEST',
    message,
  )
  send(framed, { type: 'error', error: error.toWire() })
  framed.socket.end()
}
