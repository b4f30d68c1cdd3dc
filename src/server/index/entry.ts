/**
 * What the index knows of one file: one version of it (or its tombstone), as servers exchange it.
 */
import type { EntryRequest } from '../../protocol/index.js'
import type { VersionVector } from './version-vector.js'

export interface FileEntry {
  name: string
  size: number
  /** The version's modification time, ms since the epoch (set on every copy of it). */
  mtime: number
  /** Hex SHA-256 of the content; null for a tombstone. */
  hash: string | null
  deleted: boolean
  version: VersionVector
  /** The server whose change made this version (conflict copies and ties are named after it). */
  origin: string
  /** The sending server's change sequence for this entry (a subscriber asks for seq > last seen). */
  seq: number
  /** Set when the version appeared as a rename of another name, for the receiver to rename too. */
  renamedFrom?: string | null | undefined
  /** The client request (rid) whose write made this version, and its answer (request-window.ts). */
  request?: EntryRequest | null | undefined
  /**
   * Placement (--replicas): the file's id, drawn when its name was first created here or at a
   * peer, kept by every later version and by renames, so a rename moves no copy. Null or absent
   * for entries older than placement: they are placed by their name.
   */
  fileId?: string | null | undefined
  /** The server where the file was first created: placement keeps a copy there. */
  creator?: string | null | undefined
  /** As sent by a peer: whether it holds this version's content (absent: it does). */
  held?: boolean | undefined
}

/** How the file looked on this server's disk when last indexed: a change shows as a difference. */
export interface Fingerprint {
  size: number
  mtimeMs: number
  ino: number
}

export interface LocalEntry extends FileEntry {
  /** Null for tombstones and for entries whose file is not on disk here. */
  fingerprint: Fingerprint | null
}

export function sameFingerprint(a: Fingerprint | null, b: Fingerprint | null): boolean {
  if (!a || !b) return a === b
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino
}
