/**
 * The small-file path: a body small enough to be held in memory whole (an upload that announced
 * at most SMALL_BODY_BYTES) is checked first — size and SHA-256, before anything touches the
 * disk — then written to its temp file in one go. The same promise as TempFile's (temp file,
 * fsync, SHA-256 checked, rename, directory fsync before the answer), with less work: no file
 * descriptor is held while the body arrives, a corrupt body costs no disk work, and the body is
 * one write. A session's commits overlap (session/commit-pipeline.ts), so libuv's pool runs
 * several fsyncs at once and the file system's journal commits them together; the directory
 * fsyncs are coalesced (dir-sync.ts).
 *
 * The file is written through one bare descriptor (no FileHandle): open, write, futimes, fsync,
 * fstat, close. Calls that change metadata (open with O_CREAT, futimes, rename, link) and the
 * fsync stay asynchronous: made synchronous on the session's thread the metadata calls were
 * measured to block it for 0.3–3 ms per file while other fsyncs ran (ext4: a new journal handle
 * waits while a commit is being locked; a create waits for the folder's lock while the watcher
 * reads it). The rest is synchronous, each a few microseconds against a wait in the pool behind
 * the fsyncs: the write of at most SMALL_BODY_BYTES (a copy into the page cache), the read-only
 * look-ups (fstat, stat), and the close after the fsync (nothing left to flush).
 */
import { createHash } from 'node:crypto'
import { closeSync, fstatSync, fsync, futimes, writevSync } from 'node:fs'
import { unlink } from 'node:fs/promises'
import { promisify } from 'node:util'
import { TandemError } from '../../protocol/errors.js'
import { mapFsError } from './fs-errors.js'
import { PublishableFile } from './sealed-file.js'
import { dropWritten, openTempFdBeside, type FileIdentity } from './temp-file.js'

const futimesAsync = promisify(futimes)
const fsyncAsync = promisify(fsync)

/** Bodies up to this size (announced by an upload) take the small-file path. */
export const SMALL_BODY_BYTES = 64 * 1024

/** A body held in memory until its end frame. */
export class SmallBody {
  readonly #pieces: Buffer[] = []
  #size = 0

  get size(): number {
    return this.#size
  }

  /** Keep copies: the pieces point into buffers that go back to their owner. */
  write(pieces: readonly Buffer[]): Promise<void> {
    for (const piece of pieces) {
      this.#pieces.push(Buffer.from(piece))
      this.#size += piece.length
    }
    return Promise.resolve()
  }

  /**
   * Check the body against what the sender said, then write it beside `target` as a sealed temp
   * file (fsynced, with its mtime). ERR_INTEGRITY leaves nothing on the disk.
   */
  async seal(
    target: string,
    name: string,
    expected: { sha256?: Buffer | undefined; size?: number | undefined; mtimeMs?: number },
  ): Promise<{ file: SmallFile; sha256: string }> {
    const hash = createHash('sha256')
    for (const piece of this.#pieces) hash.update(piece)
    const digest = hash.digest()
    if (expected.sha256 && !digest.equals(expected.sha256))
      throw new TandemError(
        'ERR_INTEGRITY',
        `SHA-256 of '${name}' does not match what the client sent`,
      )
    if (expected.size !== undefined && expected.size !== this.#size)
      throw new TandemError(
        'ERR_INTEGRITY',
        `'${name}': announced ${expected.size} bytes, received ${this.#size}`,
      )
    const file = await SmallFile.write(target, name, this.#pieces, expected.mtimeMs)
    this.#pieces.length = 0
    return { file, sha256: digest.toString('hex') }
  }
}

/** A sealed temp file of the small-file path; published like a TempFile. */
export class SmallFile extends PublishableFile {
  readonly size: number
  readonly identity: FileIdentity

  private constructor(tempPath: string, name: string, size: number, identity: FileIdentity) {
    super(tempPath, name)
    this.size = size
    this.identity = identity
  }

  static async write(
    target: string,
    name: string,
    pieces: readonly Buffer[],
    mtimeMs: number | undefined,
  ): Promise<SmallFile> {
    const { tempPath, fd } = await openTempFdBeside(target, name)
    let open = true
    let size = 0
    try {
      for (let rest = pieces.slice(); rest.length > 0;) {
        const written = writevSync(fd, rest)
        size += written
        rest = dropWritten(rest, written)
      }
      if (mtimeMs !== undefined) await futimesAsync(fd, Date.now() / 1000, mtimeMs / 1000)
      await fsyncAsync(fd)
      const st = fstatSync(fd)
      open = false
      closeSync(fd)
      return new SmallFile(tempPath, name, size, {
        size: st.size,
        mtimeMs: st.mtimeMs,
        ino: st.ino,
      })
    } catch (err) {
      if (open) closeQuietly(fd)
      await removeQuietly(tempPath)
      throw mapFsError(err, name)
    }
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd)
  } catch {
    // Closed either way: nothing is left to do with it.
  }
}

/** Remove `file`; gone already (or its folder is) is fine: nothing of ours is left. */
async function removeQuietly(file: string): Promise<void> {
  await unlink(file).catch(() => undefined)
}
