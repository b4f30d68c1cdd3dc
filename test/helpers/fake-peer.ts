/**
 * A made-up peer server 'F' on loopback, for tests of what a real server does with a peer that
 * misbehaves: a control port that answers a peer's hello with a welcome naming its file-exchange
 * port (proving a cluster key first, honestly, when given one), and a file-exchange port whose
 * every message the test handles itself. Closed when the test ends (after the servers it made
 * afterwards have stopped).
 */
import net from 'node:net'
import { acceptPeer, type PeerAcceptance } from '../../src/protocol/index.js'
import { FramedSocket } from '../../src/server/sync/framed-socket.js'
import { registerCleanup } from './cleanup.js'
import { freePorts, newServer, showOutputOnFailure, type ClusterServer } from './cluster.js'

export interface FakePeerOptions {
  /** Its server name (default 'F'). */
  name?: string
  /** With a key, the control port proves it (challenge, check the proof, then the welcome). */
  key?: string
  /** Each control message on a file-exchange connection, with that connection. */
  onExchange(framed: FramedSocket, message: Record<string, unknown>): void
  /** A file-exchange connection closed. */
  onExchangeClose?(framed: FramedSocket): void
}

export interface FakePeer {
  readonly name: string
  readonly controlPort: number
  readonly syncPort: number
  /** Run `fn` every `ms` until the peer is closed. */
  every(ms: number, fn: () => void): void
  close(): Promise<void>
}

export async function startFakePeer(o: FakePeerOptions): Promise<FakePeer> {
  const name = o.name ?? 'F'
  const sockets = new Set<net.Socket>()
  const timers: NodeJS.Timeout[] = []
  const exchange = net.createServer((socket) => {
    sockets.add(socket)
    const framed: FramedSocket = new FramedSocket(socket, {
      onControl: (message) => o.onExchange(framed, message as Record<string, unknown>),
      onClose: () => o.onExchangeClose?.(framed),
    })
  })
  const syncPort = await listenLocal(exchange)
  const control = net.createServer((socket) => {
    sockets.add(socket)
    let acceptance: PeerAcceptance | undefined
    const welcome = (): void => {
      framed.send({
        type: 'welcome',
        server: { name, version: 'test' },
        sessionId: 'fake',
        sync: { port: syncPort, time: Date.now() },
      })
    }
    const framed: FramedSocket = new FramedSocket(socket, {
      onControl: (message) => {
        const m = message as { type?: string; id?: string; nonce?: string }
        if (m.type === 'hello') {
          if (o.key === undefined) return welcome()
          acceptance = acceptPeer(o.key, name, 'control', m.id ?? '?', m.nonce)
          if (acceptance.kind === 'challenge') framed.send(acceptance.challenge)
          return
        }
        if (acceptance?.kind !== 'challenge') return
        acceptance.check(message)
        welcome()
      },
      onClose: () => undefined,
    })
  })
  const controlPort = await listenLocal(control)
  const peer: FakePeer = {
    name,
    controlPort,
    syncPort,
    every(ms, fn) {
      timers.push(setInterval(fn, ms))
    },
    async close() {
      for (const t of timers) clearInterval(t)
      for (const s of sockets) s.destroy()
      await Promise.all(
        [exchange, control].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
      )
    },
  }
  registerCleanup(() => peer.close())
  return peer
}

/** A real server 'A' (not started) with `peer` as its one --peer, in fresh directories. */
export async function serverFollowing(
  peer: FakePeer,
  extraArgs: readonly string[] = [],
): Promise<ClusterServer> {
  const [port, syncPort] = await freePorts(2)
  const server = newServer({
    name: 'A',
    port: port!,
    syncPort: syncPort!,
    peers: [`127.0.0.1:${peer.controlPort}`],
    extraArgs,
  })
  showOutputOnFailure([server])
  return server
}

/** A fake peer as a server follows it, with what it was asked (see followedFakePeer). */
export interface FollowedFakePeer extends FakePeer {
  /** A content channel was opened (it is never welcomed). */
  readonly contentOpened: boolean
  /** Heartbeats stop while this is true (its sockets stay open, as a wedged server's do). */
  silent: boolean
}

/**
 * A fake peer whose index channel is welcomed, heartbeats every 300 ms (unless `silent`) and
 * answers its subscribe with `entries` (its epoch 'f-epoch', sequence 1); a content channel is
 * never welcomed.
 */
export async function followedFakePeer(entries: readonly unknown[]): Promise<FollowedFakePeer> {
  const state = { contentOpened: false, silent: false }
  const peer = await startFakePeer({
    onExchange(framed, m) {
      if (m['type'] === 'peer-hello' && m['channel'] === 'content') {
        state.contentOpened = true
        return
      }
      if (m['type'] === 'peer-hello' && m['channel'] === 'index') {
        framed.send({ type: 'peer-welcome', server: 'F', epoch: 'f-epoch', time: Date.now() })
        peer.every(300, () => {
          if (!state.silent) framed.send({ type: 'heartbeat', time: Date.now(), seq: 1 })
        })
        return
      }
      if (m['type'] === 'subscribe')
        framed.send({ type: 'entries', epoch: 'f-epoch', seq: 1, entries: [...entries] })
    },
  })
  return Object.defineProperties(peer, {
    contentOpened: { get: () => state.contentOpened },
    silent: {
      get: () => state.silent,
      set: (value: boolean) => (state.silent = value),
    },
  }) as FollowedFakePeer
}

/** Listen on a free loopback port; resolves to it. */
export function listenLocal(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port))
  })
}
