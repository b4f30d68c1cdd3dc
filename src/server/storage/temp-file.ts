/**
 * A temporary file beside its future target, the first half of every write: bytes
 * go to `.tandem-tmp-*` in the target's directory while their SHA-256 is computed; `seal` fsyncs
 * and verifies them; `publish` renames (or links, for no-clobber) over the target and fsyncs the
 * directory. A crash at any instant leaves the old content or the new, plus a temp file that the
 * next startup removes.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto'
import { fstatSync, open as openFd } from 'node:fs'
import { mkdir, open, type FileHandle } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { TEMP_PREFIX } from '../../protocol/names.js'
import { TandemError } from '../../protocol/errors.js'
import { fsyncDir } from './dir-sync.js'
import { isFsCode, mapFsError } from './fs-errors.js'
import { PublishableFile } from './sealed-file.js'

/**
 * Create something in `target`'s folder, making the folder when it is missing. Tried first as is
 * (the folder usually exists: no mkdir per file). Folders are pruned when their last file goes (by
 * another session, at any moment), so a folder made a moment ago may be gone again: then make it
 * again and retry.
 */
export async function inFreshParent<T>(target: string, create: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await create()
    } catch (err) {
      if (!isFsCode(err, 'ENOENT') || attempt >= 6) throw err
    }
    try {
      await makeFolder(path.dirname(target))
    } catch (err) {
      // mkdir itself fails with ENOENT when a folder it just made is pruned under it: retry.
      if (!isFsCode(err, 'ENOENT')) throw err
    }
  }
}

/** mkdir -p, then fsync the parents of what it created, so that the new folders survive a crash. */
async function makeFolder(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true })
  if (first === undefined) return
  const top = path.dirname(first)
  for (let parent = path.dirname(dir); ; parent = path.dirname(parent)) {
    await fsyncDir(parent)
    if (parent === top) return
  }
}

/**
 * Open a new temp file beside `target` (creating missing parent folders); `name` is for errors.
 * A part of the path that is a file is ERR_EXISTS: something is where the name needs a folder.
 */
export async function openTempBeside(
  target: string,
  name: string,
): Promise<{ tempPath: string; handle: FileHandle }> {
  const tempPath = tempPathFor(target)
  try {
    return { tempPath, handle: await inFreshParent(target, () => open(tempPath, 'wx', 0o644)) }
  } catch (err) {
    throw openFailure(err, name)
  }
}

const openFdAsync = promisify(openFd)

/**
 * As openTempBeside, with a bare file descriptor (no FileHandle: the small-file path's few calls
 * on it are made and closed at once). The open itself stays asynchronous (it creates the file).
 */
export async function openTempFdBeside(
  target: string,
  name: string,
): Promise<{ tempPath: string; fd: number }> {
  const tempPath = tempPathFor(target)
  try {
    return { tempPath, fd: await inFreshParent(target, () => openFdAsync(tempPath, 'wx', 0o644)) }
  } catch (err) {
    throw openFailure(err, name)
  }
}

/** What a failed open of a temp file is to the caller. */
function openFailure(err: unknown, name: string): unknown {
  if (isFsCode(err, 'ENOTDIR') || isFsCode(err, 'EEXIST'))
    return new TandemError(
      'ERR_EXISTS',
      `'${name}' cannot be made: a part of its path is a file, not a folder`,
    )
  return mapFsError(err, name)
}

/**
 * Temp file names: 8 random bytes each, taken from a pool drawn 4 KiB at a time (one draw per
 * 512 names: drawing 8 bytes per file was ~1 % of the sync worker in a mirror of small files).
 * Random, not counted, so that nobody who can see one temp name can make the next one first;
 * 'wx' would refuse a name taken anyway.
 */
const NAME_BYTES = 8
const NAME_POOL_BYTES = 4096
let namePool = Buffer.alloc(0)
let namePoolAt = 0

export function tempPathFor(target: string): string {
  if (namePoolAt + NAME_BYTES > namePool.length) {
    namePool = randomBytes(NAME_POOL_BYTES)
    namePoolAt = 0
  }
  const random = namePool.toString('hex', namePoolAt, namePoolAt + NAME_BYTES)
  namePoolAt += NAME_BYTES
  return path.join(path.dirname(target), `${TEMP_PREFIX}${random}`)
}

/**
 * Unsynced bytes after which a background fdatasync starts, so that the final fsync of a large
 * upload has little left to flush (and dirty pages do not pile up in the page cache).
 */
const SYNC_BEHIND_BYTES = 32 * 1024 * 1024 // 32 MiB

/** What a sealed temp file is on disk (a rename keeps it): a peer-sync fingerprint. */
export interface FileIdentity {
  size: number
  mtimeMs: number
  ino: number
}

export class TempFile extends PublishableFile {
  /** Set by seal(): the file's size, mtime and inode, as the published file will have them. */
  identity: FileIdentity | undefined
  #handle: FileHandle | undefined
  readonly #hash: Hash = createHash('sha256')
  #size = 0
  #unsynced = 0
  #syncing: Promise<void> | undefined

  private constructor(tempPath: string, name: string, handle: FileHandle) {
    super(tempPath, name)
    this.#handle = handle
  }

  /** Create a temp file beside `target` (creating missing parent folders). `name` is for errors. */
  static async create(target: string, name: string): Promise<TempFile> {
    const { tempPath, handle } = await openTempBeside(target, name)
    return new TempFile(tempPath, name, handle)
  }

  get size(): number {
    return this.#size
  }

  /**
   * Append pieces (one vectored write), hashing them on the way. The write is started first and
   * the pieces are hashed while a libuv thread copies them into the page cache: the two only read
   * the pieces, and this thread's hashing no longer waits for the disk's copy, nor that for it.
   */
  async write(pieces: readonly Buffer[]): Promise<void> {
    const handle = this.#open()
    let remaining = pieces.slice()
    const first = remaining.length > 0 ? handle.writev(remaining) : undefined
    first?.catch(() => undefined) // awaited below, after the hashing
    for (const piece of pieces) {
      this.#hash.update(piece)
      this.#size += piece.length
    }
    try {
      let pending = first
      while (pending) {
        const { bytesWritten } = await pending
        remaining = dropWritten(remaining, bytesWritten)
        this.#unsynced += bytesWritten
        pending = remaining.length > 0 ? handle.writev(remaining) : undefined
      }
    } catch (err) {
      throw mapFsError(err, this.name)
    }
    if (this.#unsynced >= SYNC_BEHIND_BYTES && !this.#syncing) {
      this.#unsynced = 0
      // Errors here are not lost: the final sync in seal() reports them.
      this.#syncing = handle
        .datasync()
        .catch(() => undefined)
        .finally(() => (this.#syncing = undefined))
    }
  }

  /**
   * Flush to disk and close; check the size and the sender's SHA-256 (when the sender gave one).
   * On a mismatch the temp file is removed and ERR_INTEGRITY thrown. Returns the hex SHA-256.
   */
  async seal(expected: {
    sha256?: Buffer | undefined
    size?: number | undefined
    mtimeMs?: number | undefined
  }): Promise<string> {
    const handle = this.#open()
    const digest = this.#hash.digest()
    try {
      await this.#syncing
      if (expected.mtimeMs !== undefined)
        await handle.utimes(Date.now() / 1000, expected.mtimeMs / 1000) // seconds: keeps sub-ms precision
      await handle.sync()
      const st = fstatSync(handle.fd) // read-only: synchronous, as small-file.ts does
      this.identity = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino }
    } catch (err) {
      await this.discard()
      throw mapFsError(err, this.name)
    }
    await this.#close()
    if (expected.sha256 && !digest.equals(expected.sha256)) {
      await this.discard()
      throw new TandemError(
        'ERR_INTEGRITY',
        `SHA-256 of '${this.name}' does not match what the client sent`,
      )
    }
    if (expected.size !== undefined && expected.size !== this.#size) {
      await this.discard()
      throw new TandemError(
        'ERR_INTEGRITY',
        `'${this.name}': announced ${expected.size} bytes, received ${this.#size}`,
      )
    }
    return digest.toString('hex')
  }

  /** Close, then remove the temp file unless it was published (idempotent, never throws). */
  override async discard(): Promise<void> {
    await this.#close().catch(() => undefined)
    await super.discard()
  }

  #open(): FileHandle {
    if (!this.#handle) throw new TandemError('ERR_INTERNAL', 'temp file is already closed')
    return this.#handle
  }

  async #close(): Promise<void> {
    await this.#syncing
    const handle = this.#handle
    this.#handle = undefined
    await handle?.close()
  }
}

/** The pieces (or their tails) a partial writev left unwritten. */
export function dropWritten(pieces: Buffer[], written: number): Buffer[] {
  let index = 0
  while (index < pieces.length && written >= pieces[index]!.length) {
    written -= pieces[index]!.length
    index++
  }
  const rest = pieces.slice(index)
  if (written > 0 && rest.length > 0) rest[0] = rest[0]!.subarray(written)
  return rest
}
