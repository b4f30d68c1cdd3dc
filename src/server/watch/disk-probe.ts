/**
 * How a name looks on disk, without following symlinks, and the SHA-256 of a file's content. The
 * scanner and the applier compare these fingerprints with the index to notice changes.
 */
import { createHash } from 'node:crypto'
import { open } from 'node:fs/promises'
import { closeSync, constants as fsConstants, lstatSync, openSync, readSync } from 'node:fs'
import type { Fingerprint } from '../index/entry.js'
import { isFsCode } from '../storage/fs-errors.js'
import { giveBackReadBuffer, READ_BUFFER_BYTES, takeReadBuffer } from '../storage/read-buffers.js'

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

const READ_CHUNK = READ_BUFFER_BYTES
/** Files seen at up to this size are hashed with synchronous calls (hashSmall). */
const HASH_AT_ONCE = 64 * 1024
const OPEN_FLAGS = fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK

/** Hex SHA-256 of a regular file (never follows a symlink, never blocks on a FIFO). */
export async function hashFile(full: string, sizeHint = READ_CHUNK): Promise<string> {
  if (sizeHint < HASH_AT_ONCE) {
    const small = hashSmall(full, sizeHint)
    if (small !== undefined) return small
    sizeHint = HASH_AT_ONCE // it grew: hashed whole below, without holding the thread
  }
  // Small files get small buffers (a 4 KiB file needs no 1 MiB one, let alone two).
  const chunkSize = Math.max(1, Math.min(READ_CHUNK, sizeHint + 1))
  const handle = await open(full, OPEN_FLAGS)
  try {
    const hash = createHash('sha256')
    // A short read is the end of a regular file: no further read to learn it (a small file is
    // one read). Should the file grow meanwhile, the scanner's look after the read sees it.
    const buffer = (): Buffer =>
      chunkSize === READ_CHUNK ? takeReadBuffer() : Buffer.allocUnsafe(chunkSize)
    const first = buffer()
    const { bytesRead: firstRead } = await handle.read(first, 0, chunkSize, null)
    hash.update(first.subarray(0, firstRead))
    if (firstRead < chunkSize) {
      giveBackReadBuffer(first)
      return hash.digest('hex')
    }
    // Two buffers: the next chunk is read (in the thread pool) while this one is hashed.
    let [current, spare] = [buffer(), first]
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
    // No read is in flight here (one that threw may still be: those buffers are left to the GC).
    giveBackReadBuffer(current)
    giveBackReadBuffer(spare)
    return hash.digest('hex')
  } finally {
    await handle.close()
  }
}

/**
 * A small file hashed with synchronous calls (as the content server reads one): open, one read,
 * close take microseconds on a file in the page cache — a file the scanner was just told of —
 * where three round trips through the thread pool cost the sync worker several times that (a
 * `cp -r` of 10,000 files into the folder was 1.5 s of its CPU). Reads at most one byte more
 * than the size it was seen with, never following a file that grows (that would hold the thread,
 * its sockets and heartbeats, for as long as the file grows): undefined when there is more, and
 * the caller hashes it with asynchronous reads.
 */
function hashSmall(full: string, sizeHint: number): string | undefined {
  const fd = openSync(full, OPEN_FLAGS)
  try {
    const hash = createHash('sha256')
    const buf = Buffer.allocUnsafe(sizeHint + 1)
    let filled = 0
    while (filled < buf.length) {
      const bytesRead = readSync(fd, buf, filled, buf.length - filled, null)
      if (bytesRead === 0) break
      filled += bytesRead
    }
    if (filled === buf.length) return undefined // larger than it was seen
    return hash.update(buf.subarray(0, filled)).digest('hex')
  } finally {
    closeSync(fd)
  }
}

export function isGone(err: unknown): boolean {
  return isFsCode(err, 'ENOENT') || isFsCode(err, 'ENOTDIR') || isFsCode(err, 'ELOOP')
}
