/**
 * Confines names to the data directory. A name is first checked as a string
 * (normalizeName), then against the disk: neither the name, if it is a symlink, nor any folder
 * above it may really lie outside the root. Nothing outside the root is ever opened.
 */
import { lstatSync, realpathSync } from 'node:fs'
import { readlink } from 'node:fs/promises'
import path from 'node:path'
import { TandemError } from '../../protocol/errors.js'
import { normalizeName } from '../../protocol/names.js'
import { isFsCode, mapFsError } from './fs-errors.js'

export interface ResolvedName {
  /** Canonical name as clients see it ('reports/q1.txt'). */
  name: string
  /**
   * Absolute path on disk with no symlink in it: the real folder, plus the file name (or, when
   * the name is a symlink to a file inside the root, that file's real path). Operations use this
   * path, so a symlink re-pointed after the check cannot redirect them.
   */
  path: string
  /**
   * The file's permission bits as seen at resolve time: a number for a regular file, null when
   * nothing was there, undefined when not known (a symlink, or not looked at). Lets a write keep
   * the mode of the file it replaces without another stat.
   */
  mode?: number | null
}

export class PathJail {
  readonly root: string

  /** `root` must already be the real (symlink-free) absolute path of the data directory. */
  constructor(root: string) {
    this.root = root
  }

  /**
   * Validate a name and resolve it; throws ERR_BAD_PATH for anything that escapes. With `follow`
   * (the default) a name that is a symlink resolves to its target, where reads and writes go;
   * without, to the link itself, which is what delete and rename act on (like `rm` and `mv`).
   */
  async resolve(rawName: unknown, options: { follow?: boolean } = {}): Promise<ResolvedName> {
    const name = normalizeName(rawName)
    const full = path.join(this.root, ...name.split('/'))
    return { name, ...(await this.#realPath(name, full, options.follow ?? true)) }
  }

  /**
   * Two look-ups whatever the depth: the name itself (a symlink must lead inside the root), and
   * the real path of its folder (a symlinked folder anywhere above must lead inside the root).
   * Both synchronous: read-only look-ups in the dentry cache take microseconds, while an async
   * call waits for one of libuv's 4 pool threads, which the fsyncs of the writes in flight hold
   * for milliseconds (one resolve per request: this was two waits per small file).
   */
  async #realPath(
    name: string,
    full: string,
    follow: boolean,
  ): Promise<{ path: string; mode?: number | null }> {
    let st
    let mode: number | null | undefined
    try {
      // Nothing there (a new file: the common case of an upload) is no exception.
      st = follow ? lstatSync(full, { throwIfNoEntry: false }) : undefined
      if (follow && st === undefined) mode = null
      else if (st?.isFile()) mode = st.mode & 0o7777
    } catch (err) {
      if (!isFsCode(err, 'ENOTDIR')) throw mapFsError(err, name)
      mode = null
    }
    if (st?.isSymbolicLink()) {
      let target: string
      try {
        target = realpathSync.native(full)
      } catch {
        throw new TandemError('ERR_BAD_PATH', `'${name}' is a broken symlink`)
      }
      if (!this.contains(target)) throw outside(name)
      return { path: target }
    }
    const folder = path.dirname(full)
    if (folder === this.root) return { path: full, mode }
    const realFolder = this.#realFolder(folder, name)
    if (!this.contains(realFolder)) throw outside(name)
    return { path: path.join(realFolder, path.basename(full)), mode }
  }

  /** The real path of `folder`: its deepest existing ancestor resolved, plus the rest. */
  #realFolder(folder: string, name: string): string {
    for (let probe = folder; ; probe = path.dirname(probe)) {
      try {
        return path.join(realpathSync.native(probe), path.relative(probe, folder))
      } catch (err) {
        if ((!isFsCode(err, 'ENOENT') && !isFsCode(err, 'ENOTDIR')) || probe === this.root)
          throw mapFsError(err, name)
      }
    }
  }

  /**
   * After opening: check where the open file really is (Linux: /proc/self/fd). Closes the gap
   * between check and use for reads, should a folder be swapped for a symlink in between.
   */
  async checkOpened(fd: number, name: string): Promise<void> {
    let real: string
    try {
      real = await readlink(`/proc/self/fd/${fd}`)
    } catch {
      return // no /proc: the check at resolve time stands alone
    }
    if (!this.contains(real)) throw outside(name)
  }

  contains(absolute: string): boolean {
    const rel = path.relative(this.root, absolute)
    return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel))
  }

  /** The client-facing name of an absolute path inside the root. */
  nameOf(absolute: string): string {
    return path.relative(this.root, absolute).split(path.sep).join('/')
  }
}

function outside(name: string): TandemError {
  return new TandemError('ERR_BAD_PATH', `'${name}' leads outside the data directory`)
}
