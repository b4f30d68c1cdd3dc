/**
 * Messages between the main thread and a session worker, over the connection's MessagePort.
 * Byte chunks travel as transferred ArrayBuffers (zero copy). Errors cross as WireError objects.
 */
import type { MessagePort } from 'node:worker_threads'
import type { Hello, LogEntry, StatusResult } from '../../protocol/index.js'
import type { RequestTag } from '../index/request-window.js'
import type { TreeChange } from '../index/tree-change.js'
import type { UserLockRequest } from '../ops/context.js'
import type { WrittenState } from '../ops/own-writes.js'
import type { LogInput, LogQuery } from '../state/change-log.js'
import type { LockMode } from '../locks/lock-manager.js'
import type { LockPurpose } from '../locks/user-lock-refusal.js'
import type { FileIdentity } from '../storage/temp-file.js'
import type { Reply } from './request-reply.js'

/**
 * What the Piscina task receives when a connection is handed over: after the main thread read its
 * preamble and hello and welcomed it. The port's first bytes are those that followed the hello.
 */
export interface SessionTask {
  port: MessagePort
  sessionId: string
  remoteAddress: string
  /** The client's hello, already validated. */
  hello: Hello
  /** The slice of the server config a session needs. */
  config: SessionConfig
}

export interface SessionConfig {
  serverName: string
  root: string
  idleTimeoutMs: number
  lockTimeoutMs: number
  /** Where the sync worker's index lives (read for the composite listing). */
  stateDir: string
  /** At a secondary, the primary's control port: writes are forwarded there (roles). */
  primary: string | null
}

export type { UserLockRequest }

/** Main → worker. */
export type ToWorker =
  /** Bytes from the socket: `length` bytes of `buf` from `offset` (a pooled buffer: return it in `ack`). */
  | { t: 'in'; buf: ArrayBuffer; offset: number; length: number }
  /** The socket ended or errored: stop, clean up, resolve the task. */
  | { t: 'closed' }
  /** Bytes of earlier `out` messages written to the socket (credit for more), and their buffers back for reuse. */
  | { t: 'sent'; bytes: number; bufs: ArrayBuffer[] }
  /** The answer to a numbered request (a lock's is its token). */
  | Reply
  | { t: 'event'; entry: LogEntry }
  /** The server is stopping: finish the current request, then close with ERR_SHUTTING_DOWN. */
  | { t: 'shutdown' }

/** Worker → main. */
export type FromWorker =
  /** Bytes for the socket (in order). */
  | { t: 'out'; bufs: ArrayBuffer[] }
  /** Bytes of earlier `in` messages consumed (credit for more socket reads), and their buffers back. */
  | { t: 'ack'; bytes: number; bufs: ArrayBuffer[] }
  /** `purpose`: the operation asking, when a user lock's owner may not do it either (see LockPurpose). */
  /** `client`: whose operation (the HTTP worker serves many; a session's bridge knows its own). */
  | {
      t: 'lock'
      req: number
      names: string[]
      mode: LockMode
      purpose?: LockPurpose
      client: string
    }
  /** A user lock or unlock of a name, by `client`. */
  | ({ t: 'user-lock'; req: number; client: string } & UserLockRequest)
  | { t: 'unlock'; token: number }
  /** An operation done: on the console always, in the change log when `record`. */
  | { t: 'log'; entry: LogInput; record: boolean }
  /** A whole file published with this SHA-256 (told to the sync worker). */
  | { t: 'published'; name: string; sha256: string; identity: FileIdentity }
  /**
   * A folder's files about to be deleted or renamed together (told to the sync worker); replied
   * once the sync worker stored the index-only part (files held at other members).
   */
  | { t: 'tree-change'; req: number; change: TreeChange }
  /** What a client's write left at its names, told under its lock (ops/own-writes.ts). */
  | { t: 'wrote'; states: WrittenState[] }
  | ({ t: 'query'; req: number; what: 'log' } & LogQuery)
  | { t: 'query'; req: number; what: 'status' }
  | { t: 'follow' }
  /** May this request (its rid) be applied? Replied `Begun` (requests/request-gate.ts). */
  | { t: 'request-begin'; req: number; tag: RequestTag }
  /** It was applied with this result (replied once recorded); `names`: what it wrote. */
  | { t: 'request-done'; req: number; tag: RequestTag; result: unknown; names: string[] }
  /** It failed or was not applied: a replay waiting for it may run. */
  | { t: 'request-abandon'; rid: string }
  /** Flush what was sent, then close the socket (`error` is logged on the console). */
  | { t: 'close'; reason: string }
  /** Several of the above, in order (one postMessage per turn of the worker). */
  | { t: 'batch'; messages: FromWorker[] }

export type QueryReply<W extends 'log' | 'status'> = W extends 'log' ? LogEntry[] : StatusResult
