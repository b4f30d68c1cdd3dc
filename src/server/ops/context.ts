/**
 * What an operation may use, whatever front end called it (a binary session, an HTTP route, a
 * test harness): the file store, the main thread's locks, the index (what peers hold, user locks,
 * known hashes), the change log, user locks, and the identity of the client. Operations know
 * nothing of frames, sockets or HTTP.
 */
import type {
  Holder,
  LockResult,
  LogEntry,
  StatusResult,
  UnlockResult,
  UserLock,
} from '../../protocol/index.js'
import type { Holding, IndexedHash } from '../index/peer-holdings.js'
import type { RequestRecord, RequestTag } from '../index/request-window.js'
import type { TreeChange } from '../index/tree-change.js'
import type { LockMode } from '../locks/lock-manager.js'
import type { LockPurpose } from '../locks/user-lock-refusal.js'
import type { LogInput, LogQuery } from '../state/change-log.js'
import type { FileStore } from '../storage/file-store.js'
import type { FileIdentity } from '../storage/temp-file.js'
import type { Forwarder } from './forwarding.js'

/** The slice of the server's configuration operations need. */
export interface OpsConfig {
  serverName: string
  root: string
}

/** A user lock or unlock of a name (an index already resolved to it). */
export interface UserLockRequest {
  op: 'lock' | 'unlock'
  name: string
  ttlSeconds?: number | undefined
  force?: boolean | undefined
}

/** What operations read of the sync worker's index (a read-only view; never blocks on it). */
export interface IndexView {
  /** Live files each peer last announced. */
  holdings(): Holding[]
  /** User locks here (as `self`) and at the peers, this server's first. */
  locks(): UserLock[]
  /** The owner of the user lock on `name` here, if any. */
  lockOwner(name: string): string | undefined
  /** The SHA-256 the index knows for `name`, if the file on disk still has this identity. */
  knownHash(name: string, identity: FileIdentity): string | undefined
  /** Every live file's known SHA-256 with the identity it was indexed with (for the listing). */
  indexedHashes(): Map<string, IndexedHash>
  /** A request id recorded in the index (with an entry of this server's or a peer's). */
  request?(rid: string): RequestRecord | undefined
  /**
   * Partial replication: the members holding `name`'s version when the index lists it live but
   * this disk holds no copy ([] when none is reachable); undefined when it is not such a name.
   */
  heldElsewhere?(name: string): Holder[] | undefined
  /** The live names below `folder` ('' the root) the index lists with no copy on this disk. */
  notHeldUnder?(folder: string): string[]
  /** Where a client reaches the member `name` (partial replication); undefined when unknown. */
  member?(name: string): Holder | undefined
}

/** The main thread's request window (requests/request-gate.ts), as operations reach it. */
export interface RequestCalls {
  /** May this request be applied? Waits while the same rid runs elsewhere here. */
  begin(tag: RequestTag): Promise<{ replay: true; result: unknown } | { replay: false }>
  /** It was applied with this result (resolves once recorded); `names`: what it wrote. */
  done(tag: RequestTag, result: unknown, names: readonly string[]): Promise<void>
  /** It failed, or was not applied. */
  abandon(rid: string): void
}

export interface OpsContext {
  readonly config: OpsConfig
  readonly store: FileStore
  readonly client: { readonly id: string }
  readonly index: IndexView
  /**
   * Take locks in the main thread; resolves to their release (call it in `finally`). A write
   * lock is refused with ERR_LOCKED on a name another client holds a user lock on (`purpose`
   * 'rename' or 'folder': any user lock, its owner's too).
   */
  lock(names: string[], mode: LockMode, purpose?: LockPurpose): Promise<Release>
  /** Record an operation: console always, change log when `record` is true. */
  log(entry: LogInput, record: boolean): void
  /**
   * A whole file was published with this content: the sync worker then need not read it again
   * to hash it (it checks the identity first).
   */
  published(name: string, sha256: string, identity: FileIdentity): void
  /**
   * Many files are about to be deleted or renamed together (a folder's), under their locks: the
   * sync worker then records them as such (see TreeChange). Told before the change is made;
   * resolves once the sync worker has stored what needs no disk change (the files held only at
   * other members: their tombstones or renames), so that the client is never answered first.
   */
  treeChange(change: TreeChange): Promise<void>
  /** Read the change log. */
  readLog(query: LogQuery): Promise<LogEntry[]>
  /** A user lock or unlock by this client, done by the main thread and the sync worker. */
  userLock(request: UserLockRequest): Promise<LockResult | UnlockResult>
  /** The server's status, as `status` shows it. */
  status(): Promise<StatusResult>
  /** Aborted when the client goes away. */
  readonly signal: AbortSignal
  /** Request ids applied at most once (ops/once.ts); without it, a rid is not acted on. */
  readonly requests?: RequestCalls | undefined
  /**
   * Set by ops/once.ts while a request with a rid runs: the operation tells its answer here,
   * under the write lock of its change, so it is recorded before the lock is let go.
   */
  readonly applied?: ((result: unknown) => void) | undefined
  /**
   * Set at a secondary (roles): every write is sent to the primary through it, and nothing is
   * written here (see forwarding.ts).
   */
  readonly forward?: Forwarder | undefined
}

/**
 * Let locks go. `wrote`: the operation may have changed its names (the default); false when it
 * failed before touching anything, so that nothing is told as the server's own write.
 */
export type Release = (wrote?: boolean) => void | Promise<void>

/** Run `fn` holding `mode` locks on `names`; a failure of `fn` counts as having written nothing. */
export async function withLock<T>(
  ctx: Pick<OpsContext, 'lock'>,
  names: string[],
  mode: LockMode,
  fn: () => Promise<T>,
  purpose?: LockPurpose,
): Promise<T> {
  const release = await ctx.lock(names, mode, purpose)
  let done = false
  try {
    const result = await fn()
    done = true
    return result
  } finally {
    await release(done)
  }
}
