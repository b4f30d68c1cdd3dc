/**
 * What the scanner found at a name, and the index entries that record it: a new version (this
 * server's counter bumped), or a tombstone.
 */
import type { LocalChangeKind } from '../../protocol/index.js'
import type { FileEntry, Fingerprint, LocalEntry } from '../index/entry.js'
import type { NewEntry } from '../index/file-index.js'
import { bumpVector } from '../index/version-vector.js'

export type Finding =
  | {
      kind: 'new'
      name: string
      seen: LocalEntry | undefined
      hash: string
      fp: Fingerprint
      mtime: number
      renamedFrom?: string
    }
  | { kind: 'same'; name: string; seen: LocalEntry; fp: Fingerprint }
  | { kind: 'gone'; name: string; seen: LocalEntry }

/** A change another program made in the folder, as the change log tells it. */
export interface LocalChange {
  what: LocalChangeKind
  name: string
  /** The new name, for a rename. */
  to: string | null
  /** The file's size after the change (null for a deletion). */
  bytes: number | null
}

export function newVersion(
  f: Extract<Finding, { kind: 'new' }>,
  self: string,
  renamedFrom?: string,
): NewEntry {
  const entry: Omit<FileEntry, 'seq'> = {
    name: f.name,
    size: f.fp.size,
    mtime: f.mtime,
    hash: f.hash,
    deleted: false,
    version: bumpVector(f.seen?.version ?? {}, self),
    origin: self,
    renamedFrom: renamedFrom ?? null,
  }
  return { entry, fingerprint: f.fp }
}

export function tombstone(seen: LocalEntry, self: string, now: number): NewEntry {
  return {
    entry: {
      name: seen.name,
      size: 0,
      mtime: now,
      hash: null,
      deleted: true,
      version: bumpVector(seen.version, self),
      origin: self,
      renamedFrom: null,
    },
    fingerprint: null,
  }
}
