/**
 * What an operation handler may use: the file store, the main thread's locks and queries, the
 * reply channel, and the identity of the client. Handlers know nothing of frames or sockets.
 */
import type { Hello } from '../../protocol/index.js'
import type { LockMode } from '../locks/lock-manager.js'
import type { LogInput } from '../state/change-log.js'
import type { FileStore } from '../storage/file-store.js'
import type { FileIdentity } from '../storage/temp-file.js'
import type { SessionConfig } from '../workers/messages.js'

export interface SessionContext {
  readonly config: SessionConfig
  readonly store: FileStore
  readonly client: Hello
  /**
   * Take locks in the main thread; resolves to their release (call it in `finally`). A write
   * lock is refused with ERR_LOCKED on a name another client holds a user lock on (`purpose`
   * 'rename': any user lock, its owner's too).
   */
  lock(names: string[], mode: LockMode, purpose?: 'rename'): Promise<() => void>
  /** Record an operation: console always, change log when `record` is true. */
  log(entry: LogInput, record: boolean): void
  /**
   * A whole file was published with this content: the sync worker then need not read it again
   * to hash it (it checks the identity first).
   */
  published(name: string, sha256: string, identity: FileIdentity): void
  /** Aborted when the connection closes. */
  readonly signal: AbortSignal
}

/** Run `fn` holding `mode` locks on `names`. */
export async function withLock<T>(
  ctx: SessionContext,
  names: string[],
  mode: LockMode,
  fn: () => Promise<T>,
  purpose?: 'rename',
): Promise<T> {
  const release = await ctx.lock(names, mode, purpose)
  try {
    return await fn()
  } finally {
    release()
  }
}

/** Returned by a handler that already sent its own response. */
export const NO_RESPONSE = Symbol('no response')
