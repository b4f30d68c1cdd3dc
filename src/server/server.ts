/**
 * `tandem serve`: assembles the parts in the main thread and runs them until stop.
 * Startup order: directory lock → leftover temp files removed → database → worker pool → accept
 * loop. Stop reverses it: no new connections, sessions finish (bounded by the grace period),
 * pool destroyed, database closed, directory lock released.
 */
import { constants } from 'node:fs'
import { access, mkdir, realpath, stat } from 'node:fs/promises'
import type net from 'node:net'
import { once } from 'node:events'
import type { Piscina } from 'piscina'
import type { ServerConfig } from './config.js'
import { ServerConsole } from './console.js'
import { ServerCore } from './core.js'
import { LockManager } from './locks/lock-manager.js'
import { createAcceptLoop, type AcceptLoop } from './net/accept-loop.js'
import { Admission } from './net/admission.js'
import { ChangeLog } from './state/change-log.js'
import { openDatabase } from './state/database.js'
import { RequestGate, indexReaderOf } from './requests/request-gate.js'
import { lockDirectory } from './state/directory-lock.js'
import { removeLeftoverTempFiles } from './storage/listing.js'
import { SyncHost } from './sync/sync-host.js'
import { HttpHost } from './http/host.js'
import { SessionPool } from './session-pool.js'
import { directoryFailure, listenFailure } from './startup-errors.js'

export interface RunningServer {
  readonly config: ServerConfig
  readonly address: { host: string; port: number }
  stop(): Promise<void>
}

export async function startServer(
  given: ServerConfig,
  out: (text: string) => void = (text) => process.stdout.write(text),
): Promise<RunningServer> {
  const root = await usableDirectory(given.root, 'data directory (--root)')
  // Work on the real path, so that the path jail compares like with like.
  const config: ServerConfig = Object.freeze({ ...given, root })
  // Until it serves, the console's lines wait: a start that fails prints only its error (main.ts),
  // never a line that reads as if it were serving (the sync worker's comes before the ports).
  let held: string[] | undefined = []
  const console = new ServerConsole(config.name, (text) => (held ? held.push(text) : out(text)))
  await usableDirectory(config.stateDir, 'state directory (--state)')
  const releaseDirectory = await lockDirectory(config.root, config.stateDir, (err) => {
    console.warn(`the lock on ${config.root} was compromised: ${err.message}`)
  })
  try {
    const removed = await removeLeftoverTempFiles(config.root)
    if (removed > 0) console.info(`removed ${removed} temporary file(s) left by an earlier run`)
    const db = openDatabase(config.stateDir)
    const core = new ServerCore(
      config,
      new LockManager(),
      new ChangeLog(db, config.name, (err) =>
        console.warn(`cannot write the change log: ${String(err)}`),
      ),
      console,
      new Admission(config.maxClients),
    )
    core.requests = new RequestGate(db, config.name, indexReaderOf(config.stateDir), {
      perClient: config.requestWindow,
      maxAgeMs: config.requestWindowAgeMs,
    })
    core.sync = await SyncHost.start(config, {
      recentRequests: core.requests.recent(),
      locks: core.locks,
      changeLog: core.changeLog,
      console,
    }).catch((err: unknown) => {
      throw listenFailure(err, {
        ...portOf(config),
        what: 'the file-exchange port',
        port: config.syncPort,
        flag: '--sync-port',
      })
    })
    const pool = new SessionPool(config.workers, config.maxClients)
    const accept = createAcceptLoop(core, pool)
    const listener = accept.server
    try {
      listener.listen(config.port, config.host)
      // Rejects with the 'error' (EADDRINUSE, EACCES…).
      await once(listener, 'listening').catch((err: unknown) => {
        throw listenFailure(err, { ...portOf(config), what: 'the control port', flag: '--port' })
      })
      core.boundPort = (listener.address() as net.AddressInfo).port
      const httpPort = config.httpPort
      if (httpPort !== null)
        core.http = await HttpHost.start(core, httpPort).catch((err: unknown) => {
          throw listenFailure(err, {
            ...portOf(config),
            what: 'the HTTP port',
            port: httpPort,
            flag: '--http-port',
          })
        })
    } catch (err) {
      listener.close()
      await pool.destroy()
      await core.sync.stop()
      db.close()
      throw err
    }
    const bound = listener.address() as net.AddressInfo
    // Discovery announces the ports that listen (any of them may have been 0).
    if (config.cluster !== null) {
      core.sync.discover(bound.port, core.http?.port ?? null)
      if (/^(127\.|::1$|localhost$)/.test(config.host))
        console.warn(
          `--cluster ${config.cluster} with --host ${config.host}: members on other machines find this server but cannot connect; listen with --host 0.0.0.0 or this machine's address`,
        )
    }
    if (core.http)
      console.info(
        `tandem ${config.name} web page and HTTP API on http://${urlHost(config.host)}:${core.http.port}/ (max ${config.maxHttpConnections} connections)`,
      )
    console.info(
      `tandem ${config.name} listening on ${config.host}:${bound.port} (data: ${config.root}, max ${config.maxClients} clients)`,
    )
    console.flush()
    const startup = held.join('')
    held = undefined
    out(startup)
    // The console's last lines wait up to 50 ms: they still go out if the process exits at once
    // (process.exit after a failed stop, an uncaught exception).
    const flushOnExit = (): void => console.flush()
    process.on('exit', flushOnExit)
    return {
      config,
      address: { host: config.host, port: bound.port },
      stop: () =>
        stop(core, accept, pool, async () => {
          core.changeLog.flush()
          db.close()
          await releaseDirectory()
        }).finally(() => {
          console.flush()
          process.off('exit', flushOnExit)
        }),
    }
  } catch (err) {
    await releaseDirectory()
    throw err
  }
}

async function stop(
  core: ServerCore,
  accept: AcceptLoop,
  pool: Piscina,
  closeState: () => Promise<void>,
): Promise<void> {
  if (core.stopping) return
  core.stopping = true
  core.console.info(`stopping: ${core.sessions.size} session(s) to close`)
  const closed = new Promise<void>((resolve) => accept.server.close(() => resolve()))
  accept.shutdown() // connections that have not said hello yet: ERR_SHUTTING_DOWN
  for (const session of core.sessions) session.shutdown()
  const httpStopped = core.http?.stop()
  const deadline = Date.now() + core.config.shutdownGraceMs
  while (core.sessions.size > 0 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20))
  for (const session of core.sessions) session.destroy()
  // Sessions whose socket is gone still remove their temp files: let them, briefly.
  const cleanupDeadline = Date.now() + 2_000
  while (core.tasks.size > 0 && Date.now() < cleanupDeadline)
    await new Promise((r) => setTimeout(r, 20))
  await closed
  await httpStopped
  await pool.destroy()
  core.requests?.flushNow() // the last turn's request ids, before the sync worker and the db go
  await core.sync?.stop()
  await closeState()
  core.console.info('stopped')
  core.console.flush()
}

function portOf(config: ServerConfig): { host: string; port: number } {
  return { host: config.host, port: config.port }
}

/**
 * Make `dir` if needed and check that the server can write there: a read-only data directory
 * would otherwise start and fail every upload. Returns its real path.
 */
async function usableDirectory(dir: string, what: string): Promise<string> {
  try {
    await mkdir(dir, { recursive: true })
    const real = await realpath(dir)
    if (!(await stat(real)).isDirectory()) throw Object.assign(new Error(dir), { code: 'ENOTDIR' })
    await access(real, constants.W_OK)
    return real
  } catch (err) {
    throw directoryFailure(err, what, dir)
  }
}

/** A host as it goes into a URL (an IPv6 address in brackets). */
function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host
}
