/**
 * What the scanner found at a name, and the index entries that record it: a new version (this
 * server's counter bumped), or a tombstone.
 */
import { createHash } from 'node:crypto'
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
  /**
   * A client's folder rename moved a file this server does not hold (known here, its content
   * elsewhere): recorded in the index only, the new name with `source`'s content, no fingerprint.
   */
  | { kind: 'moved'; name: string; seen: LocalEntry | undefined; source: LocalEntry }

/** Placement's identity of a file: stable across its new versions and renames. */
export interface FileIdentityOf {
  fileId: string | null
  creator: string | null
}

/**
 * A brand-new file's identity: this server as its creator, and an id computed from the creator
 * and the name (base64url of SHA-256(creator \0 name), 22 characters), so that any member or
 * client can compute the holders of a file that was never renamed from its name alone. The id is
 * then kept by every later version and by renames. Two live files may share an id (a file
 * renamed, then a new one made under its old name at the same server): they then share a
 * placement, which is harmless — the id only chooses where copies go, it never names a file.
 */
export function newFileId(self: string, name: string): FileIdentityOf {
  const digest = createHash('sha256').update(`${self}\0${name}`).digest()
  return { fileId: digest.toString('base64url').slice(0, 22), creator: self }
}

/**
 * A conflict copy's identity, the same on every server that makes that copy (from the losing
 * version's file and the copy's name; its creator the loser's server): the copies made on both
 * sides of a conflict are then one file to placement, with one set of desired holders, instead
 * of two random ids that placement would put in different places until the entries merge.
 */
export function conflictCopyId(
  loser: { name: string; fileId?: string | null; origin: string },
  copyName: string,
): FileIdentityOf {
  const key = `conflict-copy\0${loser.fileId ?? `name:${loser.name}`}\0${copyName}`
  const digest = createHash('sha256').update(key).digest().subarray(0, 16)
  return { fileId: digest.toString('base64url'), creator: loser.origin }
}

/** The identity an entry carries (none for one indexed before file ids existed). */
export function identityOf(e: { fileId?: string | null; creator?: string | null }): FileIdentityOf {
  return { fileId: e.fileId ?? null, creator: e.creator ?? null }
}

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
  renamedFrom: string | undefined,
  identity: FileIdentityOf,
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
    ...withIdentity(identity),
  }
  return { entry, fingerprint: f.fp }
}

/** The new name of a file moved while held elsewhere: its content and identity, no fingerprint. */
export function movedVersion(f: Extract<Finding, { kind: 'moved' }>, self: string): NewEntry {
  const entry: Omit<FileEntry, 'seq'> = {
    name: f.name,
    size: f.source.size,
    mtime: f.source.mtime,
    hash: f.source.hash,
    deleted: false,
    version: bumpVector(f.seen?.version ?? {}, self),
    origin: self,
    renamedFrom: f.source.name,
    ...withIdentity(identityOf(f.source)),
  }
  return { entry, fingerprint: null }
}

function withIdentity(identity: FileIdentityOf): { fileId?: string; creator?: string } {
  return {
    ...(identity.fileId === null ? {} : { fileId: identity.fileId }),
    ...(identity.creator === null ? {} : { creator: identity.creator }),
  }
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
