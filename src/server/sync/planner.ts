/**
 * The sync planner: a pure function that turns what this server knows of a file
 * and what a peer announces into one action. No I/O, no clock: the applier performs the actions.
 *
 * Rules:
 * - a version that descends from the other (version vectors) replaces it;
 * - concurrent versions with the same content merge silently;
 * - a concurrent modification beats a delete (nothing is lost);
 * - otherwise the newer modification time wins, ties going to the smaller server name, and the
 *   loser is kept as a conflict copy named after its own time and server, so every server that
 *   resolves the conflict makes the same copy.
 */
import type { FileEntry } from '../index/entry.js'
import { compareVectors, mergeVectors, bumpVector } from '../index/version-vector.js'
import { conflictName } from '../index/conflict-name.js'

export type Action =
  /** Nothing to do: we have this version or a newer one. */
  | { kind: 'skip' }
  /** Store the entry; the disk already agrees (same content, or a tombstone of an absent file). */
  | { kind: 'record'; entry: FileEntry }
  /** Fetch `entry.hash` and put it under `entry.name`. */
  | { kind: 'take'; entry: FileEntry }
  /** Delete the file here and store the tombstone. */
  | { kind: 'delete'; entry: FileEntry }
  /** Keep our file, with a version that now dominates both; the peer will take it. */
  | { kind: 'keep'; entry: FileEntry }
  /**
   * Concurrent edits. `copy` is the loser's conflict copy: from our own file ('local') or fetched
   * from the peer ('remote'). `entry` is the winner's new entry for the name; when the winner is
   * remote its content is then fetched as for 'take'.
   */
  | {
      kind: 'conflict'
      winner: 'local' | 'remote'
      copyName: string
      copyFrom: 'local' | 'remote'
      entry: FileEntry
      /** The peer's version as announced (its content is the one fetched). */
      remote: FileEntry
    }
  /** A rename seen on the peer, done here too without moving content over the network. */
  | { kind: 'rename'; from: FileEntry; to: FileEntry }

export function plan(local: FileEntry | undefined, remote: FileEntry, self: string): Action {
  if (!local)
    return remote.deleted ? { kind: 'record', entry: remote } : { kind: 'take', entry: remote }
  switch (compareVectors(local.version, remote.version)) {
    case 'equal':
    case 'greater':
      return { kind: 'skip' }
    case 'lesser':
      return descendant(local, remote)
    case 'concurrent':
      return concurrent(local, remote, self)
  }
}

/** The remote version descends from ours: it replaces ours. */
function descendant(local: FileEntry, remote: FileEntry): Action {
  if (remote.deleted)
    return local.deleted ? { kind: 'record', entry: remote } : { kind: 'delete', entry: remote }
  if (!local.deleted && local.hash === remote.hash) return { kind: 'record', entry: remote }
  return { kind: 'take', entry: remote }
}

function concurrent(local: FileEntry, remote: FileEntry, self: string): Action {
  const version = mergeVectors(local.version, remote.version)
  if (local.deleted && remote.deleted) return { kind: 'record', entry: { ...remote, version } }
  if (local.deleted) return { kind: 'take', entry: { ...remote, version } }
  // Our modification beats their delete: a version above both makes the peer take ours back.
  if (remote.deleted)
    return { kind: 'keep', entry: { ...local, version: bumpVector(version, self) } }
  if (local.hash === remote.hash)
    return { kind: 'record', entry: { ...newer(local, remote), version } }
  const winner = newer(local, remote) === local ? 'local' : 'remote'
  const loser = winner === 'local' ? remote : local
  return {
    kind: 'conflict',
    winner,
    copyName: conflictName(loser.name, loser.mtime, loser.origin),
    copyFrom: winner === 'local' ? 'remote' : 'local',
    entry: { ...(winner === 'local' ? local : remote), version },
    remote,
  }
}

/** Newest modification wins; a tie goes to the smaller server name (the same choice everywhere). */
function newer(a: FileEntry, b: FileEntry): FileEntry {
  if (a.mtime !== b.mtime) return a.mtime > b.mtime ? a : b
  if (a.origin !== b.origin) return a.origin < b.origin ? a : b
  return (a.hash ?? '') <= (b.hash ?? '') ? a : b // the same everywhere, however unlikely
}

/**
 * Plan a batch of remote entries in order, turning "new name with the content of a name the same
 * batch deletes" into a rename when we hold that content under the old name.
 */
export function planBatch(
  remotes: readonly FileEntry[],
  lookup: (name: string) => FileEntry | undefined,
  self: string,
): Action[] {
  const renames = findRenames(remotes, lookup, self)
  const out: Action[] = []
  for (const remote of remotes) {
    const rename = renames.get(remote.name)
    if (rename === undefined) out.push(plan(lookup(remote.name), remote, self))
    else if (rename !== null) out.push(rename)
  }
  return out
}

/** name → its rename action (at the first of the pair's two entries), or null (the other one). */
function findRenames(
  remotes: readonly FileEntry[],
  lookup: (name: string) => FileEntry | undefined,
  self: string,
): Map<string, Action | null> {
  const tombstones = new Map<string, FileEntry>()
  for (const r of remotes) if (r.deleted) tombstones.set(r.name, r)
  const order = new Map(remotes.map((r, i) => [r.name, i]))
  const renames = new Map<string, Action | null>()
  for (const to of remotes) {
    const from = to.renamedFrom ? tombstones.get(to.renamedFrom) : undefined
    if (!from || renames.has(from.name) || renames.has(to.name)) continue
    const take = plan(lookup(to.name), to, self)
    const oldLocal = lookup(from.name)
    if (take.kind !== 'take' || oldLocal?.hash !== to.hash) continue
    if (plan(oldLocal, from, self).kind !== 'delete') continue
    const action: Action = { kind: 'rename', from, to: take.entry }
    const fromFirst = (order.get(from.name) ?? 0) < (order.get(to.name) ?? 0)
    renames.set(fromFirst ? from.name : to.name, action)
    renames.set(fromFirst ? to.name : from.name, null)
  }
  return renames
}

/** The names an action changes here. */
export function namesOf(action: Action): string[] {
  if (action.kind === 'rename') return [action.from.name, action.to.name]
  if (action.kind === 'conflict') return [action.entry.name, action.copyName]
  return 'entry' in action ? [action.entry.name] : []
}

/** The peer's entries behind an action, to plan it again. */
export function remotesOf(action: Action): FileEntry[] {
  if (action.kind === 'rename') return [action.to, action.from]
  if (action.kind === 'conflict') return [action.remote]
  return action.kind === 'skip' ? [] : [action.entry]
}
