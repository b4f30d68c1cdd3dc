/**
 * The human forms of user locks, shared by the command line and the menu: who holds a file and
 * where ("alice@A (3 queued)"), and the one-line results of lock and unlock. `decorate` adds the
 * 🔒 mark for a person at a terminal; piped output stays plain words. Names, owners and servers
 * are shown escaped (displayText).
 */
import {
  displayText,
  type LockResult,
  type UnlockResult,
  type UserLock,
} from '../../../protocol/client.js'
import { clockTime, plural } from './format.js'

const MARK = '🔒'

/** "alice@A (3 queued)": the owner, the server holding the lock, and what waits there. */
export function lockHolder(lock: UserLock): string {
  const queued = lock.queued > 0 ? ` (${lock.queued} queued)` : ''
  return `${displayText(lock.owner)}@${displayText(lock.server)}${queued}`
}

/** A listing row's lock cell: every lock, comma-separated; '' when there is none. */
export function describeLocks(
  locks: readonly UserLock[],
  locked: boolean,
  decorate: boolean,
): string {
  const text = locks.length > 0 ? locks.map(lockHolder).join(', ') : locked ? 'locked' : ''
  return text !== '' && decorate ? `${MARK} ${text}` : text
}

/** "until 14:03:10", or "until unlocked" for a lock without a time-to-live. */
export function lockEnd(expiresAt: number | null, now = Date.now()): string {
  return expiresAt === null ? 'until unlocked' : `until ${clockTime(expiresAt, now)}`
}

/** "🔒 locked plan.txt at A (until 14:03:10)". */
export function renderLocked(lock: LockResult, decorate: boolean, now = Date.now()): string {
  const queued = lock.queued > 0 ? `, ${lock.queued} queued` : ''
  const line = `locked ${displayText(lock.name)} at ${displayText(lock.server)} (${lockEnd(lock.expiresAt, now)}${queued})`
  return decorate ? `${MARK} ${line}` : line
}

/**
 * "unlocked plan.txt at A: 3 queued updates applied (1 conflict copy)"; a forced unlock names
 * whose lock it was.
 */
export function renderUnlocked(result: UnlockResult, server: string): string {
  const forced = result.forced ? ` (forced; it was ${displayText(result.owner)}'s)` : ''
  const head = `unlocked ${displayText(result.name)} at ${displayText(server)}${forced}`
  if (result.applied === 0) return `${head}: no queued updates`
  const copies = result.conflicts === 1 ? 'conflict copy' : 'conflict copies'
  const conflicts = result.conflicts > 0 ? ` (${result.conflicts} ${copies})` : ''
  return `${head}: ${plural(result.applied, 'queued update')} applied${conflicts}`
}
