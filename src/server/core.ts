/**
 * The main thread's shared state: config, per-path locks, change log, console, admission and the
 * live sessions. Session bridges call into it; it knows nothing of frames.
 */
import { PROTOCOL_VERSION } from '../protocol/constants.js'
import { TandemError } from '../protocol/errors.js'
import type { StatusResult } from '../protocol/messages.js'
import { roleStatus } from './forward/role-status.js'
import { knownLocks } from './index/peer-holdings.js'
import { mirroredAddresses, type ServerConfig } from './config.js'
import type { ServerConsole } from './console.js'
import type { LockManager } from './locks/lock-manager.js'
import { userLockRefusal, type LockPurpose } from './locks/user-lock-refusal.js'
import type { Admission } from './net/admission.js'
import type { SessionBridge } from './net/session-bridge.js'
import type { ChangeLog, LogInput } from './state/change-log.js'
import type { RequestGate } from './requests/request-gate.js'
import type { SyncHost } from './sync/sync-host.js'
import type { HttpHost } from './http/host.js'
import { IdleCollector } from './workers/idle-collect.js'
import type { UserLockRequest } from './workers/messages.js'
import { VERSION } from './version.js'

export class ServerCore {
  readonly sessions = new Set<SessionBridge>()
  /** Session tasks still running in the pool (they outlive their socket while cleaning up). */
  readonly tasks = new Set<Promise<void>>()
  readonly startedAt = Date.now()
  stopping = false
  /** The port actually bound (differs from config.port when that is 0). */
  boundPort = 0
  /** The peer-sync worker, once started. */
  sync: SyncHost | undefined
  /** The HTTP worker, once started (none with --no-http). */
  http: HttpHost | undefined
  /** Request ids applied at most once (ops/once.ts asks it), once started. */
  requests: RequestGate | undefined
  /**
   * One full GC shortly after the last binary session has gone, as in a session thread: the
   * socket's bytes travel in pooled 256 KiB buffers that reach the old space, and each ended
   * session's pool was left for a full GC that a heap this small hardly ever needs (tens of MiB
   * of dead buffers stayed resident into the next clients' transfers).
   */
  readonly #idleCollector = new IdleCollector()

  get syncPort(): number {
    return this.sync?.syncPort ?? 0
  }

  constructor(
    readonly config: ServerConfig,
    readonly locks: LockManager,
    readonly changeLog: ChangeLog,
    readonly console: ServerConsole,
    readonly admission: Admission,
  ) {
    // Told to the members that follow this server, in each heartbeat.
    admission.onChange((count) => this.sync?.clientCount(count))
  }

  sessionAdmitted(session: SessionBridge): void {
    this.#idleCollector.begin()
    this.console.admitted(session, this.admission.count, this.admission.max)
  }

  sessionClosed(session: SessionBridge): void {
    if (!this.sessions.delete(session)) return
    this.admission.release()
    this.console.left(session, this.admission.count, this.admission.max)
  }

  /**
   * A session's socket has closed and its worker task has ended, its last messages taken: the
   * buffers it pooled and the ones its worker handed back are garbage now.
   */
  sessionFinished(): void {
    this.#idleCollector.end()
  }

  /** An operation done by a session: printed, and kept in the change log when `record`. */
  record(input: LogInput, record: boolean): void {
    if (record) this.changeLog.append(input)
    this.console.operation({
      op: input.op,
      name: input.name ?? null,
      to: input.to ?? null,
      client: input.client ?? null,
      size: input.size ?? null,
      detail: input.detail ?? null,
      ...(input.bytes === undefined ? {} : { bytes: input.bytes }),
    })
  }

  /** A lock or unlock by `owner` (the client id), done by the sync worker. */
  async userLock(request: UserLockRequest & { owner: string }): Promise<unknown> {
    if (!this.sync) throw new TandemError('ERR_SHUTTING_DOWN', 'the sync worker is not running')
    return this.sync.userLock(request)
  }

  /**
   * Why `client` may not write `names` now: another client's user lock on one of them, or, for a
   * rename, any user lock (its owner unlocks first). Undefined when it may.
   */
  userLockRefusal(
    names: readonly string[],
    client: string,
    purpose?: LockPurpose,
  ): TandemError | undefined {
    return userLockRefusal(this.sync?.userLocks, names, client, this.config.name, purpose)
  }

  async status(): Promise<StatusResult> {
    const { peers, members, sync, placement } = this.sync
      ? await this.sync.status(mirroredAddresses(this.config))
      : { peers: [], members: [], sync: { state: 'stopped' as const }, placement: undefined }
    const now = Date.now()
    return {
      server: {
        name: this.config.name,
        version: VERSION,
        protocol: PROTOCOL_VERSION,
        pid: process.pid,
        startedAt: this.startedAt,
        uptimeMs: now - this.startedAt,
        root: this.config.root,
        host: this.config.host,
        port: this.boundPort,
      },
      clients: {
        connected: this.admission.count,
        max: this.admission.max,
        list: [
          ...[...this.sessions].map((s) => ({
            clientId: s.clientId,
            sessionId: s.sessionId,
            address: s.remoteAddress,
            connectedAt: s.connectedAt,
          })),
          ...[...(this.http?.clients.values() ?? [])].map((c) => ({
            clientId: c.clientId,
            sessionId: 'http',
            address: c.address,
            connectedAt: c.since,
          })),
        ],
      },
      peers,
      members,
      sync,
      role: roleStatus(this.config.primary, peers),
      locks: knownLocks(this.config.stateDir, this.config.name),
      pathLocks: this.locks.snapshot(),
      ...(placement ? { placement } : {}),
    }
  }
}
