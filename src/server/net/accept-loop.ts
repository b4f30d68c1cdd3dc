/**
 * The accept loop on the control port. Every connection first passes the hello
 * gate (net/hello-gate.ts) in the main thread, holding no client slot. Then, by the hello's role:
 * a peer's handshake is answered here (welcome with the file-exchange port, the clock, --replicas,
 * the HTTP port and the disk's capacity, then close; a peer refused for the cluster key or for
 * another --replicas is logged here) and never takes a slot; a client takes one of max-clients slots and is handed to the
 * worker pool with the bytes read past its hello, or, with none free, gets ERR_BUSY with a retry
 * hint and is closed at once, never left to stall.
 */
import { randomUUID } from 'node:crypto'
import net from 'node:net'
import type { Piscina } from 'piscina'
import { encodeControl } from '../../protocol/frame-encoder.js'
import { replicasField, type ServerLoad, type Welcome } from '../../protocol/handshake.js'
import { syncLine } from '../console.js'
import type { ServerCore } from '../core.js'
import type { SessionTask } from '../workers/messages.js'
import { RefusalNotices } from '../refusal-notices.js'
import { DiskCapacity } from '../storage/capacity.js'
import { VERSION } from '../version.js'
import { PreHelloLimits } from './admission.js'
import { closeWithError, destroyAfterGrace } from './close-with-error.js'
import { HelloGate, type Greeted } from './hello-gate.js'
import { SessionBridge } from './session-bridge.js'

export interface AcceptLoop {
  readonly server: net.Server
  /** Connections that have not said hello yet get ERR_SHUTTING_DOWN (the server is stopping). */
  shutdown(): void
}

export function createAcceptLoop(core: ServerCore, pool: Piscina): AcceptLoop {
  const { config } = core
  const notices = new RefusalNotices()
  const gate = new HelloGate({
    limits: new PreHelloLimits(config.maxPreHelloPerAddress, config.maxPreHello),
    timeoutMs: config.helloTimeoutMs,
    busyRetryAfterMs: config.busyRetryAfterMs,
    console: core.console,
    peerAuth: {
      self: config.name,
      key: config.clusterKey,
      replicas: config.replicas,
      onRefused: (peer, address, reason, code) =>
        peerRefused(core, notices, peer, address, `${reason} (${code})`),
    },
    onHello: (greeted) => onHello(core, pool, greeted, capacity),
  })
  const capacity = new DiskCapacity(config.root)
  const server = net.createServer({ noDelay: true }, (socket) => {
    if (core.stopping) return closeWithError(socket, stoppingError(), true)
    gate.admit(socket)
  })
  return { server, shutdown: () => gate.shutdown() }
}

/**
 * A peer refused on the control port (ERR_AUTH, ERR_REPLICAS_MISMATCH; `reason` ends with the
 * code): a console line and a change-log row.
 */
function peerRefused(
  core: ServerCore,
  notices: RefusalNotices,
  peer: string,
  address: string,
  reason: string,
): void {
  if (!notices.shouldReport(peer, reason)) return
  const detail = `from ${address}: ${reason}`
  core.console.info(syncLine({ op: 'member-refused', name: null, peer, detail }))
  core.changeLog.append({ op: 'member-refused', name: null, detail: `${peer}: ${detail}` })
}

function onHello(core: ServerCore, pool: Piscina, greeted: Greeted, capacity: DiskCapacity): void {
  const { socket, hello, address } = greeted
  if (core.stopping) return closeWithError(socket, stoppingError(), false)
  if (hello.role === 'peer') return welcomePeer(core, socket, capacity)
  if (!core.admission.tryAdmit()) {
    core.console.refused(address, core.admission.count, core.admission.max)
    return closeWithError(
      socket,
      {
        code: 'ERR_BUSY',
        message: `the server is serving its maximum of ${core.admission.max} clients; try again shortly`,
        retryAfterMs: core.config.busyRetryAfterMs,
      },
      false,
    )
  }
  greeted.release()
  handOver(core, pool, greeted)
}

/**
 * A peer server's handshake: it learns where to exchange files, our clock, and what placement
 * weighs and redirects with (our --replicas, HTTP port and disk capacity); then the connection
 * ends (peers talk on the file-exchange port, to the sync worker). Answered at once, in this
 * thread: it holds its pre-hello place until the socket closes, never a client slot.
 */
function welcomePeer(core: ServerCore, socket: net.Socket, capacity: DiskCapacity): void {
  // The control port listens a moment before the HTTP port: a peer told "no HTTP" then would
  // send clients nowhere until its next round. It comes back in a moment (links retry).
  if (core.config.httpPort !== null && core.http === undefined)
    return closeWithError(
      socket,
      {
        code: 'ERR_BUSY',
        message: 'the server is starting; try again shortly',
        retryAfterMs: core.config.busyRetryAfterMs,
      },
      false,
    )
  const welcome: Welcome = {
    type: 'welcome',
    server: { name: core.config.name, version: VERSION },
    sessionId: randomUUID(),
    load: load(core),
    sync: {
      port: core.syncPort,
      time: Date.now(),
      ...replicasField(core.config.replicas),
      http: core.http?.port ?? null,
      capacity: capacity.gib(),
    },
  }
  socket.end(encodeControl(welcome))
  destroyAfterGrace(socket)
}

function handOver(core: ServerCore, pool: Piscina, greeted: Greeted): void {
  const { config } = core
  const sessionId = randomUUID()
  const welcome: Welcome = {
    type: 'welcome',
    server: { name: config.name, version: VERSION },
    sessionId,
    load: load(core),
  }
  greeted.socket.write(encodeControl(welcome))
  const bridge = new SessionBridge(greeted, sessionId, core)
  core.sessions.add(bridge)
  core.sessionAdmitted(bridge)
  const task: SessionTask = {
    port: bridge.workerPort,
    sessionId,
    remoteAddress: bridge.remoteAddress,
    hello: greeted.hello,
    config: {
      serverName: config.name,
      root: config.root,
      idleTimeoutMs: config.idleTimeoutMs,
      lockTimeoutMs: config.lockTimeoutMs,
      stateDir: config.stateDir,
      primary: config.primary,
    },
  }
  const running: Promise<void> = pool
    .run(task, { transferList: [bridge.workerPort] })
    .then(
      () => bridge.taskSettled(),
      (err: unknown) => bridge.taskSettled(err ?? new Error('session task failed')),
    )
    // The session's finish failed (it catches what it knows of; this is for anything else):
    // said, and the server goes on serving the others.
    .catch((err: unknown) => console.error(`[session ${sessionId}] could not finish:`, err))
  core.tasks.add(running)
  void running.finally(() => core.tasks.delete(running))
}

/** The clients served now (a client's own slot included, once admitted) and the maximum. */
function load(core: ServerCore): ServerLoad {
  return { clients: core.admission.count, maxClients: core.admission.max }
}

function stoppingError(): { code: 'ERR_SHUTTING_DOWN'; message: string } {
  return { code: 'ERR_SHUTTING_DOWN', message: 'the server is stopping' }
}
