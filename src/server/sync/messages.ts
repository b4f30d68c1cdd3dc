/**
 * Messages between the main thread and the peer-sync worker (a plain worker_thread). The worker
 * asks for per-path write locks (the lock table lives in the main thread, shared with client
 * sessions) and reports what it does; the main thread asks it for status, user locks and to stop.
 * Requests are numbered and answered with a Reply (workers/request-reply.ts) both ways.
 */
import type {
  EntryRequest,
  LocalChangeKind,
  MemberStatus,
  PeerStatus,
  PlacementStatus,
  SyncStatus,
  UserLock,
} from '../../protocol/index.js'
import type { TreeChange } from '../index/tree-change.js'
import type { WrittenState } from '../ops/own-writes.js'
import type { UserLockEvent } from './user-locks/user-locks.js'
import type { FileIdentity } from '../storage/temp-file.js'
import type { UserLockRequest } from '../workers/messages.js'
import type { Batch, Reply } from '../workers/request-reply.js'
import type { MemberInput } from './members.js'

export interface SyncWorkerData {
  self: string
  root: string
  stateDir: string
  host: string
  syncPort: number
  peers: readonly string[]
  /** A secondary's primary (HOST:PORT of its control port): a member of source 'primary'. */
  primary?: string | null
  /** The cluster key every peer connection proves (null: none). */
  clusterKey: string | null
  rescanIntervalMs: number
  /** The request window's bounds (index/request-window.ts). */
  requestWindow?: { perClient: number; maxAgeMs: number }
  /** This server's latest requests (rids) with the names they wrote, for the startup inventory. */
  recentRequests?: { request: EntryRequest; names: string[] }[]
  /** A member silent this long is down. */
  peerTimeoutMs: number
  /** --cluster and --cluster-interface: discovery starts on 'discover', once the ports are known. */
  cluster: string | null
  clusterInterface: string | null
  /** --replicas: copies kept of each file (null: every member holds every file). */
  replicas: number | null
  /** --rereplicate-after: a member down this long is given up on (its files copied anew). */
  rereplicateAfterMs: number
}

/** What `status` answers with. */
export interface SyncState {
  peers: PeerStatus[]
  members: MemberStatus[]
  sync: SyncStatus
  /** With --replicas: the copies as this member sees them, and healing's progress. */
  placement?: PlacementStatus
}

export type ToSync =
  /** The answer to the worker's `lock` (its value: the token to unlock with). */
  | Reply
  /** Answered with a SyncState. */
  | { t: 'status'; req: number }
  /** A client's upload published this content (the scanner need not hash it again). */
  | { t: 'published'; name: string; sha256: string; identity: FileIdentity }
  /**
   * A client's folder delete or rename, about to happen (see TreeChange); replied once the files
   * held only at other members are recorded (durably, before the client is answered).
   */
  | { t: 'tree-change'; req: number; change: TreeChange }
  /** What a client's write left at its names (not a change by another program). */
  | { t: 'wrote'; states: WrittenState[] }
  /** A client request (rid) applied, with its answer: the next notices for `names` carry it. */
  | { t: 'request-done'; request: EntryRequest; names: string[] }
  /** A client's lock or unlock (the session already resolved an index to a name). */
  | ({ t: 'user-lock'; req: number; owner: string } & UserLockRequest)
  /** The clients this server serves now (told in each heartbeat to the members that follow it). */
  | { t: 'clients'; count: number }
  /** A member to follow (discovery, the main thread's own knowledge). */
  | { t: 'add-member'; member: MemberInput }
  /** A member refused (ERR_AUTH) where the main thread saw it (the control port's hello gate). */
  | { t: 'member-refused'; peer: { name?: string; address?: string }; reason: string }
  /** Announce and browse the cluster (--cluster), now that the control and HTTP ports listen. */
  | { t: 'discover'; control: number; http: number | null }
  | { t: 'stop' }

export type FromSync =
  | { t: 'ready'; syncPort: number }
  | { t: 'failed'; error: string }
  /** Path locks from the main thread's table: 'write' (the default) to change, 'read' to wait out writers. */
  | { t: 'lock'; req: number; names: string[]; mode?: 'read' }
  | { t: 'unlock'; token: number }
  | { t: 'info'; message: string }
  | { t: 'warn'; message: string }
  /** A sync action or peer event: on the console, in the change log, to followers. */
  | {
      t: 'log'
      op: string
      name: string | null
      to?: string | null
      size?: number | null
      peer: string
      detail?: string
    }
  /** A change another program made in the served folder (not the server's own write). */
  | {
      t: 'local-change'
      what: LocalChangeKind
      name: string
      to: string | null
      bytes: number | null
    }
  /** The answer to `status` or `user-lock`. */
  | Reply
  /** The user locks held here now (the main thread refuses other clients' writes to them). */
  | { t: 'user-locks'; locks: UserLock[] }
  /** A lock, queue or apply event: on the console, in the change log, to followers. */
  | ({ t: 'lock-event' } & UserLockEvent)
  | { t: 'stopped' }
  /** Several of the above, in order (one postMessage per microtask). */
  | Batch<FromSync>

/** What the engine tells the main thread of its own accord (not an answer, not a lock). */
export type EngineReport = Extract<
  FromSync,
  { t: 'info' | 'warn' | 'log' | 'local-change' | 'user-locks' | 'lock-event' }
>
