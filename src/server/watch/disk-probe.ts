/**
 * How a name looks on disk, without following symlinks, and the SHA-256 of a file's content. The
 * scanner and the applier compare these fingerprints with the index to notice changes.
 */
import { createHash } from 'node:crypto'
import { open } from 'node:fs/promises'
import { constants as fsConstants, lstatSync } from 'node:fs'
import type { Fingerprint } from '../index/entry.js'
import { isFsCode } from '../storage/fs-errors.js'

export type Probe =
  | { kind: 'file'; fingerprint: Fingerprint; ctimeMs: number; mtimeMs: number }
  | { kind: 'absent' }
  | { kind: 'dir' }
  /** A symlink, FIFO, socket or device: never mirrored. */
  | { kind: 'other' }

/**
 * A read-only look-up, made synchronously (as small-file.ts does its fstat): a few microseconds,
 * where the promise form queued behind the fsyncs in libuv's pool and cost this thread more CPU
 * to submit and complete than the call itself (a bulk mirror makes three per file). Still async
 * for its callers.
 */
export async function probe(full: string): Promise<Probe> {
  return probeNow(full)
}

function probeNow(full: string): Probe {
  try {
    const st = lstatSync(full)
    if (st.isFile())
      return {
        kind: 'file',
        fingerprint: { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino },
        ctimeMs: st.ctimeMs,
        mtimeMs: st.mtimeMs,
      }
    return st.isDirectory() ? { kind: 'dir' } : { kind: 'other' }
  } catch (err) {
    // ELOOP: a folder above became a symlink loop; nothing is reachable at this name.
    if (isGone(err)) return { kind: 'absent' }
    throw err
  }
}

export async function fingerprintOf(full: string): Promise<Fingerprint | null> {
  const p = await probe(full)
  return p.kind === 'file' ? p.fingerprint : null
}

const READ_CHUNK = 1024 * 1024

/** Hex SHA-256 of a regular file (never follows a symlink, never blocks on a FIFO). */
export async function hashFile(full: string, sizeHint = READ_CHUNK): Promise<string> {
  // Small files get small buffers (a 4 KiB file needs no 1 MiB one, let alone two).
  const chunkSize = Math.max(1, Math.min(READ_CHUNK, sizeHint + 1))
  const handle = await open(
    full,
    fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK,
  )
  try {
    const hash = createHash('sha256')
    // A short read is the end of a regular file: no further read to learn it (a small file is
    // one read). Should the file grow meanwhile, the scanner's look after the read sees it.
    const first = Buffer.allocUnsafe(chunkSize)
    const { bytesRead: firstRead } = await handle.read(first, 0, chunkSize, null)
    hash.update(first.subarray(0, firstRead))
    if (firstRead < chunkSize) return hash.digest('hex')
    // Two buffers: the next chunk is read (in the thread pool) while this one is hashed.
    let [current, spare] = [Buffer.allocUnsafe(chunkSize), first]
    let reading = handle.read(current, 0, chunkSize, null)
    for (;;) {
      const { bytesRead } = await reading
      if (bytesRead === 0) break
      const chunk = current
      ;[current, spare] = [spare, current]
      if (bytesRead === chunkSize) reading = handle.read(current, 0, chunkSize, null)
      hash.update(chunk.subarray(0, bytesRead))
      if (bytesRead < chunkSize) break
    }
    return hash.digest('hex')
  } finally {
    await handle.close()
  }
}

export function isGone(err: unknown): boolean {
  return isFsCode(err, 'ENOENT') || isFsCode(err, 'ENOTDIR') || isFsCode(err, 'ELOOP')
}
