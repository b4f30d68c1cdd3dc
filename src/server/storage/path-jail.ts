/**
 * Confines names to the data directory (DESIGN.md §3). A name is first checked as a string
 * (normalizeName), then against the disk: no existing component of the path may be a symlink whose
 * real target lies outside the root. Nothing outside the root is ever opened.
 */
import { lstat, realpath } from 'node:fs/promises'
import path from 'node:path'
import { TandemError, normalizeName } from '../../protocol/index.js'
import { isFsCode } from './fs-errors.js'

export interface ResolvedName {
  /** Canonical name as clients see it ('reports/q1.txt'). */
  name: string
  /** Absolute path on disk. */
  path: string
}

export class PathJail {
  readonly root: string

  /** `root` must already be the real (symlink-free) absolute path of the data directory. */
  constructor(root: string) {
    this.root = root
  }

  /** Validate a name and resolve it; throws ERR_BAD_PATH for anything that escapes. */
  async resolve(rawName: unknown): Promise<ResolvedName> {
    const name = normalizeName(rawName)
    const full = path.join(this.root, ...name.split('/'))
    await this.#checkComponents(name, full)
    return { name, path: full }
  }

  /** Walk the path's existing components; a symlink must resolve inside the root. */
  async #checkComponents(name: string, full: string): Promise<void> {
    const parts = path.relative(this.root, full).split(path.sep)
    let current = this.root
    for (const part of parts) {
      current = path.join(current, part)
      let isLink: boolean
      try {
        isLink = (await lstat(current)).isSymbolicLink()
      } catch (err) {
        if (isFsCode(err, 'ENOENT') || isFsCode(err, 'ENOTDIR')) return // the rest does not exist yet
        throw err
      }
      if (!isLink) continue
      let target: string
      try {
        target = await realpath(current)
      } catch {
        throw new TandemError('ERR_BAD_PATH', `'${name}' goes through a broken symlink`)
      }
      if (!this.contains(target)) throw new TandemError('ERR_BAD_PATH', `'${name}' leads outside the data directory`)
    }
  }

  contains(absolute: string): boolean {
    const rel = path.relative(this.root, absolute)
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))
  }

  /** The client-facing name of an absolute path inside the root. */
  nameOf(absolute: string): string {
    return path.relative(this.root, absolute).split(path.sep).join('/')
  }
}
