/**
 * Download in the binary protocol: the file is opened by the read operation (ops/read.ts: under
 * its read lock, one pinned version), then streamed as data frames. Each chunk is read into a
 * buffer with room for its frame header in front, so it goes to the socket as one transferred
 * buffer: no copy.
 */
import { createHash } from 'node:crypto'
import {
  FRAME_HEADER_LENGTH,
  FrameType,
  Limits,
  encodeEnd,
  type DownloadHeader,
  type RequestOf,
} from '../../protocol/index.js'
import type { FileHandle } from 'node:fs/promises'
import type { OpsContext } from '../ops/context.js'
import { knownHashOf, openFile, readEnded, rememberSent } from '../ops/read.js'
import type { FileInfo } from '../storage/file-store.js'
import { mapFsError } from '../storage/fs-errors.js'

/**
 * Bytes per data frame sent: 1 MiB, the largest frame: a quarter of the reads, of the messages to
 * the main thread and of its socket writes that 256 KiB frames cost. Measured through the command
 * line (`npm run bench -- --only cli`, two rounds of three runs, interleaved with 256 KiB frames):
 * a 1 GiB get cost the server 0.53 s of CPU against 0.76 s. That is the gain: the server's CPU,
 * which all its clients share. A single get was not faster (545 against 566 MiB/s, within the
 * noise; the client's CPU the same): the client is what a get waits for.
 */
const DOWNLOAD_FRAME = Limits.maxData // 1 MiB

/**
 * From this size up, a file whose SHA-256 is known (this thread hashed or wrote that version, or
 * the index has it for the same size, mtime and inode) is sent without hashing it again: the end
 * frame carries the known hash, and the client's check of the bytes against it is the proof.
 * A file changed in place under the same fingerprint then fails the client's check
 * (ERR_INTEGRITY) rather than arriving unchecked. Below it, the look-up costs more than the hash.
 */
const KNOWN_HASH_FROM = 1024 * 1024

export interface BodyOut {
  send(buffers: readonly Uint8Array[]): void
  whenWritable(): Promise<void>
  /** A buffer to fill and send whole (recycled from earlier sends when possible). */
  takeBuffer(size: number): Buffer
}

/**
 * Open the file and return the response header plus a function that streams the body. The caller
 * sends the header first, then awaits `stream`.
 */
export async function openDownload(
  ctx: OpsContext,
  req: RequestOf<'download'>,
): Promise<{ header: DownloadHeader; stream: (out: BodyOut) => Promise<void> }> {
  const opened = await openFile(ctx, req)
  const { handle, info } = opened
  return {
    header: { name: info.name, size: info.size, mtime: info.mtime },
    stream: async (out) => {
      const sent = { bytes: 0 }
      try {
        const big = info.size >= KNOWN_HASH_FROM
        const known = big ? knownHashOf(opened, ctx) : undefined
        const sha256 = await streamBody(ctx, handle, info, out, sent, known)
        if (big && sha256 && !known) rememberSent(opened, sha256)
      } finally {
        await handle.close()
        // A body that broke off (the client left, a read error) is told with what it moved.
        readEnded(ctx, info, { bytes: sent.bytes, size: info.size, purpose: req.purpose })
      }
    },
  }
}

async function streamBody(
  ctx: OpsContext,
  handle: FileHandle,
  info: FileInfo,
  out: BodyOut,
  sent: { bytes: number },
  known: string | undefined,
): Promise<string | undefined> {
  const hash = known === undefined ? createHash('sha256') : undefined
  // Send exactly the size announced in the header, even if the file is appended to meanwhile.
  const readFrame = async (position: number): Promise<{ frame: Buffer; length: number }> => {
    const want = Math.min(DOWNLOAD_FRAME, info.size - position)
    // A buffer of the frame's own size: a small file's body or a last short frame does not take
    // (and the main thread does not hand back) a whole 1 MiB frame's.
    const frame = out.takeBuffer(FRAME_HEADER_LENGTH + want)
    try {
      const { bytesRead } = await handle.read(frame, FRAME_HEADER_LENGTH, want, position)
      return { frame, length: bytesRead }
    } catch (err) {
      throw mapFsError(err, info.name)
    }
  }
  let position = 0
  // The read ahead is awaited later; mark it handled now, or a read error while this loop waits
  // for the socket would be an unhandled rejection (which ends the worker thread).
  const ahead = (position: number): Promise<{ frame: Buffer; length: number }> => {
    const read = readFrame(position)
    read.catch(() => undefined)
    return read
  }
  let next = info.size > 0 ? ahead(0) : undefined
  let whole = true
  while (next) {
    const { frame, length } = await next
    if (length === 0) {
      whole = false // truncated under us (by another program): the client's size check says so
      break
    }
    position += length
    // Read ahead while this frame is hashed and sent.
    next = position < info.size ? ahead(position) : undefined
    const payload = frame.subarray(FRAME_HEADER_LENGTH, FRAME_HEADER_LENGTH + length)
    hash?.update(payload)
    frame.writeUInt32BE(length, 0)
    frame.writeUInt8(FrameType.Data, 4)
    // A buffer filled whole is transferred as is; a short read (the file shrank) goes as a
    // (copied) view.
    const full = FRAME_HEADER_LENGTH + length === frame.length
    out.send([full ? frame : frame.subarray(0, FRAME_HEADER_LENGTH + length)])
    await out.whenWritable()
    if (ctx.signal.aborted) {
      await next?.catch(() => undefined)
      return undefined
    }
    sent.bytes = position
  }
  const digest = hash ? hash.digest() : Buffer.from(known!, 'hex')
  out.send([encodeEnd(digest)])
  return whole ? digest.toString('hex') : undefined
}
