/**
 * What client work runs on: a Link gives it a connection and may run it again on another one
 * (see server-pool.ts, failover). A plain Connection is a Link that never moves.
 */
import type { Connection } from './connection.js'

export interface RunOptions {
  /** Asked after a failure: may the work still be replayed (false once output was printed)? */
  canReplay?: () => boolean
}

export interface Link<C = Connection> {
  /**
   * Run `work` with a connection and the request id its mutating request carries (the same on
   * every replay of this work).
   */
  run<T>(work: (conn: C, rid: string) => Promise<T>, options?: RunOptions): Promise<T>
}

/** A Link as it is, or a Connection as a link that never moves. */
export function asLink(target: Connection | Link): Link {
  if ('run' in target) return target
  return { run: (work) => work(target, target.newRid()) }
}
