/**
 * The main thread's side of the peer-sync worker: starts it, grants it per-path write locks from
 * the shared lock table, records its reports (console, change log, followers) and relays status.
 */
import { Worker } from 'node:worker_threads'
import type { WireError } from '../../protocol/errors.js'
import type { UserLock } from '../../protocol/messages.js'
import type { EntryRequest } from '../../protocol/peer-messages.js'
import { TandemError } from '../../protocol/errors.js'
import type { ServerConfig } from '../config.js'
import {
  clockSkewText,
  localChangeLine,
  lockLine,
  syncLine,
  type ServerConsole,
} from '../console.js'
import type { TreeChange } from '../index/tree-change.js'
import type { LockManager } from '../locks/lock-manager.js'
import type { UserLockEvent } from './user-locks/user-locks.js'
import type { ChangeLog, LogInput } from '../state/change-log.js'
import type { WrittenState } from '../ops/own-writes.js'
import type { FileIdentity } from '../storage/temp-file.js'
import type { UserLockRequest } from '../workers/messages.js'
import { answer, Requests, Tokens, unbatch } from '../workers/request-reply.js'
import type { MemberInput } from './members.js'
import type { FromSync, SyncState, SyncWorkerData, ToSync } from './messages.js'

const STATUS_TIMEOUT_MS = 2_000
/** A remote change waits this long for a name's lock (behind client commits) before its batch is retried. */
const SYNC_LOCK_TIMEOUT_MS = 120_000 // 2 min
const RESCAN_INTERVAL_MS = 15_000 // 15 s: the safety net under the watcher (a stat per file)

export type { SyncState }

export class SyncHost {
  readonly syncPort: number
  readonly #worker: Worker
  /** The path locks the worker holds, by token. */
  readonly #held = new Tokens()
  /** The worker's answers to status and user-lock requests. */
  readonly #requests = new Requests()
  /** The user locks held here, by name, as the worker last told (client writes check them). */
  userLocks = new Map<string, UserLock>()
  #stopped = false
  /** The client count to tell the worker at the end of this turn (undefined: nothing new). */
  #clients: number | undefined

  private constructor(worker: Worker, syncPort: number) {
    this.#worker = worker
    this.syncPort = syncPort
  }

  static async start(
    config: ServerConfig,
    deps: {
      locks: LockManager
      changeLog: ChangeLog
      console: ServerConsole
      /** This server's latest requests (requests/request-gate.ts `recent`). */
      recentRequests?: { request: EntryRequest; names: string[] }[]
    },
  ): Promise<SyncHost> {
    const workerData: SyncWorkerData = {
      self: config.name,
      root: config.root,
      stateDir: config.stateDir,
      host: config.host,
      syncPort: config.syncPort,
      peers: config.peers,
      // A secondary's primary: an implicit member (source 'primary'), unless also a --peer.
      primary: config.primary,
      clusterKey: config.clusterKey,
      rescanIntervalMs: RESCAN_INTERVAL_MS,
      requestWindow: { perClient: config.requestWindow, maxAgeMs: config.requestWindowAgeMs },
      recentRequests: deps.recentRequests ?? [],
      peerTimeoutMs: config.peerTimeoutMs,
      cluster: config.cluster,
      clusterInterface: config.clusterInterface,
      replicas: config.replicas,
      rereplicateAfterMs: config.rereplicateAfterMs,
    }
    const worker = new Worker(new URL('./sync-worker.js', import.meta.url), {
      workerData,
      // A small young generation: the worker allocates in bursts (an inventory, a bulk mirror),
      // and V8 would otherwise grow it to tens of MiB. Measured with 10,000 files indexed:
      // 196 MiB RSS for the whole server by default, 181 MiB with this.
      resourceLimits: { maxYoungGenerationSizeMb: 8 },
    })
    // What the worker says before it is ready (the user locks it loaded) is kept for the host.
    const early: FromSync[] = []
    const ready = await new Promise<number>((resolve, reject) => {
      worker.once('error', reject)
      worker.once('exit', (code) => reject(new Error(`the sync worker exited (${code})`)))
      worker.on('message', function first(message: FromSync) {
        for (const m of unbatch(message)) {
          if (m.t === 'ready') resolve(m.syncPort)
          else if (m.t === 'failed') reject(new Error(m.error))
          else early.push(m)
          if (m.t === 'ready' || m.t === 'failed') worker.off('message', first)
        }
      })
    })
    worker.removeAllListeners('error').removeAllListeners('exit')
    const host = new SyncHost(worker, ready)
    for (const m of early) host.#onMessage(m, deps)
    worker.on('message', (m: FromSync) => host.#onMessage(m, deps))
    worker.on('error', (err) => {
      if (!host.#stopped) deps.console.failed('the sync worker failed; mirroring stopped', err)
    })
    worker.on('exit', () => {
      host.#stopped = true
      host.#failRequests({ code: 'ERR_SHUTTING_DOWN', message: 'the sync worker has stopped' })
      // A worker that died holding a name's lock must not block that name's writers.
      host.#held.releaseAll()
    })
    return host
  }

  #onMessage(
    m: FromSync,
    deps: { locks: LockManager; changeLog: ChangeLog; console: ServerConsole },
  ): void {
    switch (m.t) {
      case 'batch':
        for (const message of m.messages) this.#onMessage(message, deps)
        return
      case 'lock':
        return answer(
          (reply) => this.#post(reply),
          m.req,
          async () => {
            const release = await deps.locks.acquire(
              m.names,
              m.mode ?? 'write',
              SYNC_LOCK_TIMEOUT_MS,
            )
            if (!this.#stopped) return this.#held.add(release)
            release() // granted after stop: nobody will unlock it
            return 0
          },
        )
      case 'unlock':
        return this.#held.release(m.token)
      case 'info':
        return deps.console.info(m.message)
      case 'warn':
        return deps.console.warn(m.message)
      case 'failed':
        return deps.console.warn(`the sync worker failed: ${m.error}`)
      case 'log':
        deps.console.info(syncLine(m))
        deps.changeLog.append({
          op: m.op,
          name: m.name,
          to: m.to ?? null,
          size: m.size ?? null,
          detail: m.op.startsWith('sync-')
            ? `from ${m.peer}${m.detail ? `: ${m.detail}` : ''}`
            : m.op === 'clock-skew'
              ? clockSkewText(m.peer, Number(m.detail))
              : m.detail
                ? `${m.peer}: ${m.detail}`
                : m.peer,
        })
        return
      case 'local-change':
        deps.console.info(localChangeLine(m))
        deps.changeLog.append({
          op: 'local-change',
          name: m.name,
          to: m.to ?? null,
          what: m.what,
          ...(m.bytes === null ? {} : { bytes: m.bytes }),
          detail: 'on this server’s disk, by another program',
        })
        return
      case 'user-locks':
        this.userLocks = new Map(m.locks.map((lock) => [lock.name, lock]))
        return
      case 'reply':
      case 'reply-failed':
        return this.#requests.settle(m)
      case 'lock-event':
        deps.console.info(lockLine(m))
        deps.changeLog.append(lockEntry(m))
        return
      default:
        return
    }
  }

  #post(message: ToSync): void {
    if (!this.#stopped) this.#worker.postMessage(message)
  }

  published(name: string, sha256: string, identity: FileIdentity): void {
    this.#post({ t: 'published', name, sha256, identity })
  }

  /**
   * A client's folder delete or rename, about to happen: resolves once the worker has stored the
   * index-only part (the files held at other members), which the client's answer must follow.
   */
  treeChange(change: TreeChange): Promise<void> {
    if (this.#stopped)
      return Promise.reject(new TandemError('ERR_SHUTTING_DOWN', 'the sync worker has stopped'))
    return this.#requests.call((req) => this.#post({ t: 'tree-change', req, change }))
  }

  /** What a client's write left on disk: the scanner must not take it for another program's. */
  wrote(states: WrittenState[]): void {
    this.#post({ t: 'wrote', states })
  }

  /** A client request applied (its rid and answer): its write's entries carry it to the peers. */
  requestDone(request: EntryRequest, names: string[]): void {
    this.#post({ t: 'request-done', request, names })
  }

  /** The clients this server serves now: told to the worker once per turn of the event loop. */
  clientCount(count: number): void {
    if (this.#clients === undefined)
      setImmediate(() => {
        const clients = this.#clients
        this.#clients = undefined
        if (clients !== undefined) this.#post({ t: 'clients', count: clients })
      })
    this.#clients = count
  }

  /** Follow a member found at run time (discovery): see SyncEngine.addMember. */
  addMember(member: MemberInput): void {
    this.#post({ t: 'add-member', member })
  }

  /** A member refused (ERR_AUTH) as the main thread saw it: see SyncEngine.refused. */
  memberRefused(peer: { name?: string; address?: string }, reason: string): void {
    this.#post({ t: 'member-refused', peer, reason })
  }

  /** Start cluster discovery in the worker (it owns the peer links) with the ports that listen. */
  discover(control: number, http: number | null): void {
    this.#post({ t: 'discover', control, http })
  }

  /** A client's lock or unlock, done by the worker (which holds the locks and their queues). */
  userLock(request: UserLockRequest & { owner: string }): Promise<unknown> {
    if (this.#stopped)
      return Promise.reject(new TandemError('ERR_SHUTTING_DOWN', 'the sync worker has stopped'))
    return this.#requests.call((req) => this.#post({ t: 'user-lock', req, ...request }))
  }

  #failRequests(error: WireError): void {
    this.#requests.failAll(error)
  }

  /** Peers and sync state, as the worker sees them (a stopped or stuck worker: 'stopped'). */
  async status(peers: readonly string[]): Promise<SyncState> {
    const fallback: SyncState = {
      peers: peers.map((address) => ({
        address,
        name: null,
        state: 'down',
        up: false,
        connected: false,
        lastHeard: null,
        behind: null,
        backlog: null,
        oldestWaitingMs: null,
        clockSkewMs: null,
      })),
      members: peers.map((address) => ({
        name: null,
        addresses: [address],
        state: 'down',
        source: 'static',
        clients: null,
        lastContact: null,
        backlog: null,
        behind: null,
        reason: 'the sync engine does not answer',
      })),
      sync: { state: 'stopped' },
    }
    if (this.#stopped) return fallback
    let asked = 0
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<SyncState>((resolve) => {
      timer = setTimeout(() => {
        this.#requests.forget(asked)
        resolve(fallback)
      }, STATUS_TIMEOUT_MS)
    })
    const answered = this.#requests.call<SyncState>((req) => {
      asked = req
      this.#post({ t: 'status', req })
    })
    try {
      return await Promise.race([answered.catch(() => fallback), timedOut])
    } finally {
      clearTimeout(timer)
    }
  }

  async stop(): Promise<void> {
    if (this.#stopped) return
    const stopped = new Promise<void>((resolve) => {
      this.#worker.on('message', (m: FromSync) => {
        if (unbatch(m).some((one) => one.t === 'stopped')) resolve()
      })
      this.#worker.once('exit', () => resolve())
    })
    this.#post({ t: 'stop' })
    this.#stopped = true
    const timer = setTimeout(() => void this.#worker.terminate(), 5_000)
    await stopped
    clearTimeout(timer)
    this.#failRequests({ code: 'ERR_SHUTTING_DOWN', message: 'the server is stopping' })
    this.#held.releaseAll()
    await this.#worker.terminate()
  }
}

/**
 * A lock event as the change log keeps it. A queued or applied update came from a peer: it is
 * "from B (queued while alice holds the lock)", never "by" the lock's holder, who did not make it.
 */
export function lockEntry(m: UserLockEvent): LogInput {
  if (m.op === 'lock-queue' || m.op === 'lock-apply') {
    const held = m.op === 'lock-queue' ? `queued while ${m.owner} holds the lock` : m.detail
    const what = m.op === 'lock-queue' && m.detail ? `; ${m.detail}` : ''
    return {
      op: m.op,
      name: m.name,
      client: null,
      detail: `from ${m.peer ?? '?'} (${held}${what}; ${m.queued} waiting)`,
    }
  }
  return { op: m.op, name: m.name, client: m.owner, detail: m.detail || null }
}
