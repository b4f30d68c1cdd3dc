/**
 * Reading a file (download, `GET`): opened under its read lock, which is released as soon as the
 * file is open. The open handle pins the version (a writer renames a new file over the name; the
 * handle keeps reading the old inode), so a slow reader never holds writers up and always reads
 * one whole version. Each front end streams the handle its own way.
 */
import type { FileHandle } from 'node:fs/promises'
import type { FileInfo } from '../storage/file-store.js'
import type { FileIdentity } from '../storage/temp-file.js'
import { contentHash } from './content-hash.js'
import { withLock, type OpsContext } from './context.js'

export interface OpenedFile {
  readonly handle: FileHandle
  readonly info: FileInfo
  readonly identity: FileIdentity
  /** Its ctime (ms). */
  readonly changedMs: number
}

export async function openFile(ctx: OpsContext, req: { name: string }): Promise<OpenedFile> {
  const file = await ctx.store.resolve(req.name)
  return withLock(ctx, [file.name], 'read', () => ctx.store.openForRead(file))
}

/** The SHA-256 of the version `opened` reads (known, or read through the handle once). */
export function hashOf(ctx: OpsContext, opened: OpenedFile): Promise<string> {
  return contentHash(ctx, opened.info.name, opened.handle, opened.identity, opened.changedMs)
}

/** A download is on the console, not in the change log. */
export function downloaded(ctx: OpsContext, info: FileInfo, bytes = info.size): void {
  ctx.log({ op: 'download', name: info.name, size: bytes }, false)
}
