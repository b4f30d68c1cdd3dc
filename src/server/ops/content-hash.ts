/**
 * The SHA-256 of a file's current content (an HTTP ETag, a precondition), without reading the
 * file when it is known: from this thread's own recent writes, else from the sync worker's index
 * when the file still has the identity (size, mtime, inode) it was indexed with. Only a file
 * changed by another program since it was last indexed is read and hashed.
 */
import { createHash } from 'node:crypto'
import type { FileHandle } from 'node:fs/promises'
import { mapFsError } from '../storage/fs-errors.js'
import { READ_BUFFER_BYTES, withReadBuffer } from '../storage/read-buffers.js'
import type { FileIdentity } from '../storage/temp-file.js'
import type { OpsContext } from './context.js'

/**
 * Recent hashes by name (the files this thread wrote or hashed), bounded. Each is trusted only
 * while the file has the same identity and ctime: a program that rewrites a file in place and sets
 * its size and mtime back cannot set the ctime back.
 */
const recent = new Map<string, { identity: FileIdentity; changedMs: number; sha256: string }>()
const MAX_RECENT = 4096

export function rememberHash(
  name: string,
  identity: FileIdentity,
  changedMs: number,
  sha256: string,
): void {
  recent.delete(name)
  recent.set(name, { identity, changedMs, sha256 })
  if (recent.size > MAX_RECENT) recent.delete(recent.keys().next().value!)
}

function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino
}

/**
 * The hex SHA-256 of `name` at `identity` when it is known without reading the file (this
 * thread's recent writes and hashes, else the index unless `trustIndex` is false).
 */
export function knownContentHash(
  ctx: Pick<OpsContext, 'index'>,
  name: string,
  identity: FileIdentity,
  changedMs: number,
  trustIndex = true,
): string | undefined {
  const mine = recent.get(name)
  if (mine && mine.changedMs === changedMs && sameIdentity(mine.identity, identity))
    return mine.sha256
  return trustIndex ? ctx.index.knownHash(name, identity) : undefined
}

/** The hex SHA-256 of the file open as `handle`, whose identity is `identity`. */
export async function contentHash(
  ctx: Pick<OpsContext, 'index'>,
  name: string,
  handle: FileHandle,
  identity: FileIdentity,
  changedMs: number,
  /**
   * False where a wrong hash would lose data (If-Match): the index's fingerprint has no ctime, so
   * a rewrite in place that keeps size, mtime and inode would still match it.
   */
  trustIndex = true,
): Promise<string> {
  const known = knownContentHash(ctx, name, identity, changedMs, trustIndex)
  if (known) return known
  const sha256 = await hashOpened(handle, identity.size, name)
  rememberHash(name, identity, changedMs, sha256)
  return sha256
}

/** Hash `size` bytes of an open file by position (the handle's own position is left alone). */
async function hashOpened(handle: FileHandle, size: number, name: string): Promise<string> {
  if (size >= READ_BUFFER_BYTES)
    return withReadBuffer((buffer) => hashWith(buffer, handle, size, name))
  return hashWith(Buffer.allocUnsafe(Math.max(1, size)), handle, size, name)
}

async function hashWith(
  buffer: Buffer,
  handle: FileHandle,
  size: number,
  name: string,
): Promise<string> {
  const hash = createHash('sha256')
  let position = 0
  try {
    while (position < size) {
      const { bytesRead } = await handle.read(
        buffer,
        0,
        Math.min(buffer.length, size - position),
        position,
      )
      if (bytesRead === 0) break
      hash.update(buffer.subarray(0, bytesRead))
      position += bytesRead
    }
  } catch (err) {
    throw mapFsError(err, name)
  }
  return hash.digest('hex')
}
