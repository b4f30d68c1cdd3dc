/**
 * Reading a file (download, `GET`): opened under its read lock, which is released as soon as the
 * file is open. The open handle pins the version (a writer renames a new file over the name; the
 * handle keeps reading the old inode), so a slow reader never holds writers up and always reads
 * one whole version. Each front end streams the handle its own way.
 */
import type { FileHandle } from 'node:fs/promises'
import type { FileInfo } from '../storage/file-store.js'
import type { FileIdentity } from '../storage/temp-file.js'
import { contentHash, knownContentHash, rememberHash } from './content-hash.js'
import { withLock, type OpsContext } from './context.js'
import { orMoved } from './moved.js'

export interface OpenedFile {
  readonly handle: FileHandle
  readonly info: FileInfo
  readonly identity: FileIdentity
  /** Its ctime (ms). */
  readonly changedMs: number
}

/** Open `name` for reading; ERR_MOVED when the index lists it as held by other members. */
export async function openFile(ctx: OpsContext, req: { name: string }): Promise<OpenedFile> {
  const file = await ctx.store.resolve(req.name)
  return orMoved(ctx, file.name, () =>
    withLock(ctx, [file.name], 'read', () => ctx.store.openForRead(file)),
  )
}

/** The SHA-256 of the version `opened` reads (known, or read through the handle once). */
export function hashOf(ctx: OpsContext, opened: OpenedFile): Promise<string> {
  return contentHash(ctx, opened.info.name, opened.handle, opened.identity, opened.changedMs)
}

/**
 * The SHA-256 of the version `opened` reads when it is known without reading it (see
 * knownContentHash), else undefined: the sender hashes the bytes as it sends them, and gives
 * `rememberSent` the result once it sent them all.
 */
export function knownHashOf(opened: OpenedFile, ctx: OpsContext): string | undefined {
  return knownContentHash(ctx, opened.info.name, opened.identity, opened.changedMs)
}

/** A whole version's SHA-256, hashed while it was sent: known next time without a read. */
export function rememberSent(opened: OpenedFile, sha256: string): void {
  rememberHash(opened.info.name, opened.identity, opened.changedMs, sha256)
}

/** What the client said the bytes are for: a look at the file, or a copy it keeps. */
export type ReadPurpose = 'read' | 'download'

/**
 * A body sent (or broken off): written here once for both front ends. The whole of it is a
 * `read` or a `download`; a client that left before the end is a `download-interrupted` with the
 * bytes handed to its connection (`bytes`) of the `size` that was to be sent — never a whole one.
 */
export function readEnded(
  ctx: OpsContext,
  info: FileInfo,
  sent: { bytes: number; size: number; purpose: ReadPurpose | undefined },
): void {
  const purpose = sent.purpose ?? 'download'
  if (sent.bytes >= sent.size) {
    ctx.log({ op: purpose, name: info.name, size: sent.size }, true)
    return
  }
  ctx.log(
    {
      op: 'download-interrupted',
      name: info.name,
      size: sent.size,
      bytes: sent.bytes,
      detail: purpose === 'read' ? 'a read' : null,
    },
    true,
  )
}
