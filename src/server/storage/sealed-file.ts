/**
 * What every temp file does once its content is on disk: take the mode of the file it replaces,
 * be renamed (or hard-linked) over its target, with the folder fsynced, or be discarded. Shared by
 * the streamed TempFile and the small-file path's SmallFile, which differ only in how the bytes
 * got there.
 */
import { statSync } from 'node:fs'
import { chmod, link, rename, unlink } from 'node:fs/promises'
import path from 'node:path'
import { TandemError } from '../../protocol/errors.js'
import { fsyncDir } from './dir-sync.js'
import { isFsCode, mapFsError } from './fs-errors.js'

/**
 * Where received content is written: a TempFile (straight to disk, piece by piece) or a small
 * body held whole in memory (small-file.ts's SmallBody) until it is checked and written in one go.
 */
export interface ContentSink {
  write(pieces: readonly Buffer[]): Promise<void>
}

export abstract class PublishableFile {
  readonly path: string
  /** The file's name in the served tree, for errors. */
  protected readonly name: string
  /** Published, or removed: nothing of ours is left at `path`. */
  protected done = false

  protected constructor(tempPath: string, name: string) {
    this.path = tempPath
    this.name = name
  }

  /**
   * Give the temp file the mode of the file it replaces (a 0600 file stays 0600), where it differs
   * from the default 0644. The caller holds the target's write lock. `known` is the mode read when
   * the name was resolved (null: nothing was there).
   */
  async adoptModeOf(target: string, known?: number | null): Promise<void> {
    if (known === null) return
    let mode: number
    try {
      // A read-only look-up: synchronous, rather than a wait in libuv's pool behind fsyncs.
      mode = known ?? statSync(target).mode & 0o7777
    } catch {
      return // nothing to replace (or not readable): keep the default
    }
    if (mode !== 0o644)
      await chmod(this.path, mode).catch((err: unknown) => {
        throw mapFsError(err, this.name)
      })
  }

  /** Rename over `target` (replacing it), then fsync its folder. The caller holds the lock. */
  async publish(target: string): Promise<void> {
    await this.rename(target)
    try {
      await fsyncDir(path.dirname(target))
    } catch (err) {
      throw this.#publishError(err)
    }
  }

  /**
   * `publish` without the directory fsync: for a caller that renames many files and then fsyncs
   * each of their folders once (it must, before it calls any of them stored).
   */
  async rename(target: string): Promise<void> {
    try {
      await rename(this.path, target)
      this.done = true
    } catch (err) {
      throw this.#publishError(err)
    }
  }

  /** Publish only if `target` does not exist (ERR_EXISTS otherwise), atomically, with a hard link. */
  async publishExclusive(target: string): Promise<void> {
    try {
      await link(this.path, target)
    } catch (err) {
      throw this.#publishError(err)
    }
    this.done = true
    await unlink(this.path).catch(() => undefined)
    await fsyncDir(path.dirname(target)).catch((err: unknown) => {
      throw mapFsError(err, this.name)
    })
  }

  /** Remove the temp file unless it was published (idempotent, never throws). */
  async discard(): Promise<void> {
    if (this.done) return
    this.done = true
    await unlink(this.path).catch(() => undefined)
  }

  /**
   * No lock is held while a body arrives: a folder renamed or deleted meanwhile takes the temp
   * file with it. Said so plainly (nothing was stored), rather than as a missing file.
   */
  #publishError(err: unknown): unknown {
    if (isFsCode(err, 'ENOENT') && !existsNow(this.path)) {
      this.done = true // nothing left here to discard
      const folder = path.posix.dirname(this.name)
      const what =
        folder === '.'
          ? 'its temporary file was removed'
          : `the folder '${folder}' was renamed or deleted`
      return new TandemError(
        'ERR_NOT_FOUND',
        `${what} while '${this.name}' was arriving; nothing was stored (send it again)`,
      )
    }
    return mapFsError(err, this.name)
  }
}

function existsNow(file: string): boolean {
  try {
    statSync(file)
    return true
  } catch {
    return false
  }
}
