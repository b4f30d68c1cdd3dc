/**
 * The Placement the applier asks (`wants`): is this member one of the desired holders of an
 * entry's file, computed from the live member view (this member, every member up or in its grace
 * window, weighted by capacity) and --replicas. Whoever computes it from the same view gets the
 * same answer: no lookup, no coordination.
 */
import type { FileEntry } from '../../index/entry.js'
import type { MemberView } from './member-view.js'
import { candidatesOf, type DesiredHolders } from './plan.js'

export interface Placement {
  wants(entry: FileEntry): boolean
}

export interface PlacementOptions {
  self: string
  selfWeight: number
  /** --replicas (null: every member). */
  replicas: number | null
  view: MemberView
  desired: DesiredHolders
}

export function placementFrom(o: PlacementOptions): Placement & {
  desiredOf(entry: Pick<FileEntry, 'name' | 'fileId' | 'creator'>): string[]
} {
  const desiredOf = (entry: Pick<FileEntry, 'name' | 'fileId' | 'creator'>): string[] =>
    o.desired(
      { fileId: entry.fileId ?? null, creator: entry.creator ?? null, name: entry.name },
      candidatesOf({ self: o.self, selfWeight: o.selfWeight, members: o.view.members() }),
      o.replicas,
    )
  return {
    desiredOf,
    wants: (entry) => {
      if (entry.deleted) return false
      // Its creator is a member, even when its entry came relayed before its own link is up.
      if (entry.creator) o.view.known(entry.creator, null)
      return desiredOf(entry).includes(o.self)
    },
  }
}
