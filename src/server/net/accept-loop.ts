/**
 * The accept loop on the control port (DESIGN.md §2): admits up to max-clients sessions and hands
 * each to the worker pool; the next connection gets ERR_BUSY with a retry hint and is closed at
 * once, never left to stall.
 */
import { randomUUID } from 'node:crypto'
import net from 'node:net'
import type { Piscina } from 'piscina'
import { encodeControl, encodePreamble, type WireError } from '../../protocol/index.js'
import type { ServerCore } from '../core.js'
import type { SessionTask } from '../workers/messages.js'
import { VERSION } from '../version.js'
import { SessionBridge } from './session-bridge.js'

export function createAcceptLoop(core: ServerCore, pool: Piscina): net.Server {
  const server = net.createServer({ noDelay: true }, (socket) => {
    const address = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`
    if (core.stopping)
      return refuse(socket, { code: 'ERR_SHUTTING_DOWN', message: 'the server is stopping' })
    if (!core.admission.tryAdmit()) {
      core.console.refused(address, core.admission.count, core.admission.max)
      const { busyRetryAfterMs } = core.config
      return refuse(socket, {
        code: 'ERR_BUSY',
        message: `the server is serving its maximum of ${core.admission.max} clients; try again shortly`,
        retryAfterMs: busyRetryAfterMs,
      })
    }
    handOver(core, pool, socket)
  })
  return server
}

function handOver(core: ServerCore, pool: Piscina, socket: net.Socket): void {
  const bridge = new SessionBridge(socket, randomUUID(), core)
  core.sessions.add(bridge)
  const { config } = core
  const task: SessionTask = {
    port: bridge.workerPort,
    sessionId: bridge.sessionId,
    remoteAddress: bridge.remoteAddress,
    config: {
      serverName: config.name,
      version: VERSION,
      root: config.root,
      idleTimeoutMs: config.idleTimeoutMs,
      lockTimeoutMs: config.lockTimeoutMs,
      syncPort: core.syncPort,
      stateDir: config.stateDir,
    },
  }
  const running: Promise<void> = pool.run(task, { transferList: [bridge.workerPort] }).then(
    () => bridge.taskSettled(),
    (err: unknown) => bridge.taskSettled(err ?? new Error('session task failed')),
  )
  core.tasks.add(running)
  void running.finally(() => core.tasks.delete(running))
}

/** Answer with our preamble and a connection error, then close. */
function refuse(socket: net.Socket, error: WireError): void {
  socket.on('error', () => undefined)
  socket.end(Buffer.concat([encodePreamble(), encodeControl({ type: 'error', error })]))
  setTimeout(() => socket.destroy(), 2_000).unref()
}
