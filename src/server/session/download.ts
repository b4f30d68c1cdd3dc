/**
 * Download: open the file under its read lock, then stream it. The open handle pins the version
 * (a writer renames a new file over the name; the handle keeps reading the old inode), so the lock
 * is released as soon as the file is open and a slow reader never holds writers up. Each chunk is
 * read into a buffer with room for its frame header in front, so it goes to the socket as one
 * transferred buffer: no copy.
 */
import { createHash } from 'node:crypto'
import { FRAME_HEADER_LENGTH, FrameType, Limits, encodeEnd, type DownloadHeader, type RequestOf } from '../../protocol/index.js'
import type { FileInfo } from '../storage/file-store.js'
import { mapFsError } from '../storage/fs-errors.js'
import { withLock, type SessionContext } from './context.js'

export interface BodyOut {
  send(buffers: readonly Uint8Array[]): void
  whenWritable(): Promise<void>
}

/**
 * Open the file and return the response header plus a function that streams the body. The caller
 * sends the header first, then awaits `stream`.
 */
export async function openDownload(ctx: SessionContext, req: RequestOf<'download'>): Promise<{ header: DownloadHeader; stream: (out: BodyOut) => Promise<void> }> {
  const file = await ctx.store.resolve(req.name)
  const { handle, info } = await withLock(ctx, [file.name], 'read', () => ctx.store.openForRead(file))
  return {
    header: { name: info.name, size: info.size, mtime: info.mtime },
    stream: async (out) => {
      try {
        await streamBody(ctx, handle, info, out)
      } finally {
        await handle.close()
      }
      ctx.log({ op: 'download', name: info.name, size: info.size }, false)
    },
  }
}

async function streamBody(ctx: SessionContext, handle: import('node:fs/promises').FileHandle, info: FileInfo, out: BodyOut): Promise<void> {
  const hash = createHash('sha256')
  let position = 0
  // Send exactly the size announced in the header, even if the file is appended to meanwhile.
  while (position < info.size) {
    await out.whenWritable()
    if (ctx.signal.aborted) return
    const want = Math.min(Limits.dataChunk, info.size - position)
    const frame = Buffer.allocUnsafeSlow(FRAME_HEADER_LENGTH + want)
    let bytesRead: number
    try {
      ;({ bytesRead } = await handle.read(frame, FRAME_HEADER_LENGTH, want, position))
    } catch (err) {
      throw mapFsError(err, info.name)
    }
    if (bytesRead === 0) break // truncated under us (by another program): the hash check will say so
    position += bytesRead
    const payload = frame.subarray(FRAME_HEADER_LENGTH, FRAME_HEADER_LENGTH + bytesRead)
    hash.update(payload)
    frame.writeUInt32BE(bytesRead, 0)
    frame.writeUInt8(FrameType.Data, 4)
    out.send([bytesRead === want ? frame : frame.subarray(0, FRAME_HEADER_LENGTH + bytesRead)])
  }
  out.send([encodeEnd(hash.digest())])
}
