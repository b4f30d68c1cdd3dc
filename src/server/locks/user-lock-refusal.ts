/**
 * The check every client write makes under its path write lock (ServerCore, for the session
 * bridges and any other front end): a user lock held here refuses other clients' writes, and a
 * rename of a locked file even by its owner (who unlocks first), and the same for a folder's
 * delete or rename (a lock inside a folder holds the whole folder). Pure: the locks are given.
 */
import { TandemError } from '../../protocol/errors.js'

/**
 * The operation asking, when a user lock's owner may not do it either: 'rename' (a file), 'folder'
 * (a folder's delete or rename, for every file in it).
 */
export type LockPurpose = 'rename' | 'folder'

/** What the check needs of a user lock held here. */
export interface HeldUserLock {
  owner: string
  /** When it was taken (ms since the epoch). */
  since: number
}

/**
 * Why `client` may not write `names` now, given the user locks `held` at the server `serverName`
 * (by name); undefined when it may.
 */
export function userLockRefusal(
  held: ReadonlyMap<string, HeldUserLock> | undefined,
  names: readonly string[],
  client: string,
  serverName: string,
  purpose?: LockPurpose,
): TandemError | undefined {
  if (!held || held.size === 0) return undefined
  for (const name of names) {
    const lock = held.get(name)
    if (!lock) continue
    if (lock.owner === client && purpose !== undefined)
      return new TandemError(
        'ERR_LOCKED',
        purpose === 'rename'
          ? `'${name}' is locked by you (${client}) at ${serverName}: unlock it before renaming it`
          : `'${name}' is locked by you (${client}) at ${serverName}: unlock it before deleting or moving its folder`,
      )
    if (lock.owner !== client)
      return new TandemError(
        'ERR_LOCKED',
        `'${name}' is locked by ${lock.owner} at ${serverName} (since ${new Date(lock.since).toISOString()})`,
      )
  }
  return undefined
}
