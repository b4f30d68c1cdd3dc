/**
 * File operations on the data directory, below the locks and above the raw fs: every name goes
 * through the PathJail, every fs error through mapFsError. Knows nothing of sockets or frames.
 * Callers hold the per-path locks; this module only guarantees atomicity of each step.
 */
import { existsSync, lstatSync, statSync, constants as fsConstants } from 'node:fs'
import {
  copyFile,
  link,
  lstat,
  open,
  rename,
  rmdir,
  stat,
  unlink,
  type FileHandle,
} from 'node:fs/promises'
import path from 'node:path'
import { TandemError } from '../../protocol/errors.js'
import { isFsCode, mapFsError, withFsErrors } from './fs-errors.js'
import { PathJail, type ResolvedName } from './path-jail.js'
import { withReadBuffer } from './read-buffers.js'
import { fsyncDir } from './dir-sync.js'
import { TempFile, inFreshParent, tempPathFor, type FileIdentity } from './temp-file.js'

const HAVE_PROC_FD = existsSync('/proc/self/fd')

export interface FileInfo {
  name: string
  size: number
  mtime: number
}

export class FileStore {
  readonly jail: PathJail

  constructor(root: string) {
    this.jail = new PathJail(root)
  }

  get root(): string {
    return this.jail.root
  }

  resolve(name: unknown, options?: { follow?: boolean }): Promise<ResolvedName> {
    return this.jail.resolve(name, options)
  }

  async stat(file: ResolvedName): Promise<FileInfo> {
    const st = await withFsErrors(file.name, () => stat(file.path))
    if (st.isDirectory()) throw new TandemError('ERR_IS_DIRECTORY', `'${file.name}' is a folder`)
    if (!st.isFile()) throw new TandemError('ERR_BAD_PATH', `'${file.name}' is not a regular file`)
    return { name: file.name, size: st.size, mtime: Math.round(st.mtimeMs) }
  }

  /**
   * The identity of the file at `file` now, and its ctime (which no program can set back, unlike
   * the mtime: a rewrite in place with the old size and mtime still changes it).
   */
  identityOf(file: ResolvedName): Promise<{ identity: FileIdentity; changedMs: number }> {
    // Synchronous, like exists(): a metadata call on a local disk takes microseconds, a trip
    // through libuv's 4-thread pool (which the fsyncs of the commits in flight need) far more.
    try {
      const st = statSync(file.path)
      const identity = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino }
      return Promise.resolve({ identity, changedMs: st.ctimeMs })
    } catch (err) {
      return Promise.reject(mapFsError(err, file.name))
    }
  }

  exists(file: ResolvedName): Promise<boolean> {
    try {
      // Synchronous (see identityOf); nothing there is no exception.
      return Promise.resolve(lstatSync(file.path, { throwIfNoEntry: false }) !== undefined)
    } catch (err) {
      if (isFsCode(err, 'ENOTDIR')) return Promise.resolve(false)
      return Promise.reject(mapFsError(err, file.name))
    }
  }

  /**
   * Open a file for reading and return its handle and metadata. An open handle pins this version:
   * a later rename over the name does not change what the handle reads.
   */
  async openForRead(
    file: ResolvedName,
  ): Promise<{ handle: FileHandle; info: FileInfo; identity: FileIdentity; changedMs: number }> {
    // O_NONBLOCK: a FIFO (made by another program) would block a thread-pool thread in open().
    const flags = fsConstants.O_RDONLY | fsConstants.O_NONBLOCK
    const handle = await withFsErrors(file.name, () => open(file.path, flags))
    try {
      await this.jail.checkOpened(handle.fd, file.name)
      const st = await handle.stat()
      if (st.isDirectory()) throw new TandemError('ERR_IS_DIRECTORY', `'${file.name}' is a folder`)
      if (!st.isFile())
        throw new TandemError('ERR_BAD_PATH', `'${file.name}' is not a regular file`)
      return {
        handle,
        info: { name: file.name, size: st.size, mtime: Math.round(st.mtimeMs) },
        identity: { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino },
        changedMs: st.ctimeMs,
      }
    } catch (err) {
      await handle.close()
      throw mapFsError(err, file.name)
    }
  }

  newTempFile(file: ResolvedName): Promise<TempFile> {
    return TempFile.create(file.path, file.name)
  }

  /**
   * Append the sealed `body` to `file` atomically: copy the file to a temp (a reflink where the
   * file system has them), add the body, fsync, rename over. The caller holds the write lock.
   */
  async appendFrom(file: ResolvedName, body: { path: string }): Promise<FileInfo> {
    const temp = tempPathFor(file.path)
    const source = await this.openForRead(file)
    try {
      // Copy the file just opened and checked (through its /proc link where there is one), not
      // whatever the name points to a moment later.
      const from = HAVE_PROC_FD ? `/proc/self/fd/${source.handle.fd}` : file.path
      // A new temp file (EXCL: never one planted at its name, nor through a symlink there), opened
      // again without following a symlink that replaced it since.
      await withFsErrors(file.name, () =>
        copyFile(from, temp, fsConstants.COPYFILE_FICLONE | fsConstants.COPYFILE_EXCL),
      ).finally(() => source.handle.close())
      const out = await withFsErrors(file.name, () =>
        open(temp, fsConstants.O_WRONLY | fsConstants.O_APPEND | fsConstants.O_NOFOLLOW),
      )
      try {
        await copyInto(body.path, out, file.name)
        await withFsErrors(file.name, () => out.sync())
      } finally {
        await out.close()
      }
      await withFsErrors(file.name, () => rename(temp, file.path))
    } catch (err) {
      await unlink(temp).catch(() => undefined)
      throw err
    }
    await fsyncDir(path.dirname(file.path))
    return this.stat(file)
  }

  /**
   * Rename without replacing: ERR_NOT_FOUND if `from` is gone, ERR_EXISTS if `to` exists. A hard
   * link makes the no-clobber check atomic; where links are not supported, check then rename.
   */
  async rename(from: ResolvedName, to: ResolvedName): Promise<void> {
    const st = await withFsErrors(from.name, () => lstat(from.path))
    if (st.isDirectory()) throw new TandemError('ERR_IS_DIRECTORY', `'${from.name}' is a folder`)
    if (from.path === to.path) throw new TandemError('ERR_EXISTS', `'${to.name}' already exists`)
    try {
      await inFreshParent(to.path, async () => {
        try {
          await link(from.path, to.path)
        } catch (err) {
          // ENOENT for a vanished target folder is retried; for a vanished source it is final.
          if (isFsCode(err, 'ENOENT') && !(await this.exists(from)))
            throw new TandemError('ERR_NOT_FOUND', `no file '${from.name}'`)
          throw err
        }
      })
      await unlink(from.path)
    } catch (err) {
      if (!isFsCode(err, 'EPERM') && !isFsCode(err, 'EXDEV') && !isFsCode(err, 'ENOTSUP'))
        throw mapFsError(err, isFsCode(err, 'EEXIST') ? to.name : from.name)
      if (await this.exists(to)) throw new TandemError('ERR_EXISTS', `'${to.name}' already exists`)
      await withFsErrors(from.name, () => rename(from.path, to.path))
    }
    await fsyncDir(path.dirname(to.path))
    if (path.dirname(from.path) !== path.dirname(to.path)) await fsyncDir(path.dirname(from.path))
    await this.pruneEmptyParents(from.path)
  }

  async delete(file: ResolvedName): Promise<void> {
    const st = await withFsErrors(file.name, () => lstat(file.path))
    if (st.isDirectory()) throw new TandemError('ERR_IS_DIRECTORY', `'${file.name}' is a folder`)
    await withFsErrors(file.name, () => unlink(file.path))
    await fsyncDir(path.dirname(file.path))
    await this.pruneEmptyParents(file.path)
  }

  /** Folders are implied by their files: remove folders a delete or rename left empty. */
  async pruneEmptyParents(filePath: string): Promise<void> {
    let dir = path.dirname(filePath)
    while (dir !== this.root && this.jail.contains(dir)) {
      try {
        await rmdir(dir)
      } catch {
        return // not empty (or raced with a new file): stop
      }
      dir = path.dirname(dir)
    }
  }
}

async function copyInto(source: string, out: FileHandle, name: string): Promise<void> {
  const input = await withFsErrors(name, () => open(source, 'r'))
  try {
    await withReadBuffer(async (buffer) => {
      for (;;) {
        const { bytesRead } = await input.read(buffer, 0, buffer.length, null)
        if (bytesRead === 0) return
        await withFsErrors(name, () => out.write(buffer, 0, bytesRead))
      }
    })
  } finally {
    await input.close()
  }
}
