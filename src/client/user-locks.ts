/**
 * User locks from the client's side: the lock and unlock requests, typed. A target
 * is a name, or an index into the composite listing together with the name the client saw there
 * (`expect`), which lets the server refuse with ERR_LISTING_CHANGED when the index has come to
 * name another file.
 */
import type { LockResult, UnlockResult } from '../protocol/client.js'
import type { Connection } from './connection.js'

export type LockTarget = { name: string } | { index: number; expect?: string }

export interface LockOptions {
  /** The lock ends by itself after this many seconds; none: until unlocked. */
  ttlSeconds?: number
  /** The request id of a replay; a new one is drawn otherwise. */
  rid?: string
}

export interface UnlockOptions {
  /** Release a lock another client holds. */
  force?: boolean
  /** The request id of a replay; a new one is drawn otherwise. */
  rid?: string
}

export function lockFile(
  conn: Connection,
  target: LockTarget,
  options: LockOptions = {},
): Promise<LockResult> {
  const fields = { ...target, ...definedOnly({ ttlSeconds: options.ttlSeconds, rid: options.rid }) }
  return conn.request('lock', fields) as Promise<LockResult>
}

export function unlockFile(
  conn: Connection,
  target: LockTarget,
  options: UnlockOptions = {},
): Promise<UnlockResult> {
  const fields = {
    ...target,
    ...definedOnly({ force: options.force || undefined, rid: options.rid }),
  }
  return conn.request('unlock', fields) as Promise<UnlockResult>
}

/**
 * What a command-line argument names: a purely numeric one is an index (unless `asName`), sent
 * with the name `seen` at that index in the listing the person last read, when it is known.
 */
export function lockTarget(
  argument: string,
  asName: boolean,
  seen?: readonly string[],
): LockTarget {
  if (asName || !/^\d+$/.test(argument)) return { name: argument }
  const index = Number(argument)
  const expect = seen?.[index]
  return expect === undefined ? { index } : { index, expect }
}

function definedOnly(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined))
}
