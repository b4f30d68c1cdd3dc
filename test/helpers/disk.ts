/** Looking at a server's directories from the outside: temp files, trees, snapshots. */
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, lstatSync, readlinkSync, statSync } from 'node:fs'
import path from 'node:path'
import { TEMP_PREFIX } from '../../src/protocol/index.js'

/** Every entry under `dir` (relative '/'-separated paths), not following symlinks. */
export function walkTree(dir: string, skip: (relative: string) => boolean = () => false): string[] {
  const out: string[] = []
  const visit = (current: string): void => {
    let names: string[]
    try {
      names = readdirSync(current)
    } catch {
      return
    }
    for (const name of names) {
      const full = path.join(current, name)
      const relative = path.relative(dir, full).split(path.sep).join('/')
      if (skip(relative)) continue
      out.push(relative)
      try {
        if (lstatSync(full).isDirectory()) visit(full)
      } catch {
        // vanished while walking
      }
    }
  }
  visit(dir)
  return out.sort()
}

/** The server's temporary files under `root`. */
export function tempFilesIn(root: string): string[] {
  return walkTree(root).filter((relative) => path.posix.basename(relative).startsWith(TEMP_PREFIX))
}

/** Regular files under `root` with their content, excluding temp files. */
export function filesIn(root: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>()
  for (const relative of walkTree(root)) {
    if (path.posix.basename(relative).startsWith(TEMP_PREFIX)) continue
    const full = path.join(root, relative)
    try {
      if (lstatSync(full).isFile()) files.set(relative, readFileSync(full))
    } catch {
      // vanished while walking
    }
  }
  return files
}

/**
 * A description of everything under `dir` (type, size, mtime, content hash, link target), for
 * checking that nothing there was written, created or removed.
 */
export function snapshotTree(
  dir: string,
  skip: (relative: string) => boolean = () => false,
): Map<string, string> {
  const snapshot = new Map<string, string>()
  for (const relative of walkTree(dir, skip)) {
    const full = path.join(dir, relative)
    const st = lstatSync(full)
    if (st.isSymbolicLink()) snapshot.set(relative, `link → ${readlinkSync(full)}`)
    else if (st.isDirectory()) snapshot.set(relative, `dir mtime ${st.mtimeMs}`)
    else
      snapshot.set(
        relative,
        `file ${st.size} mtime ${st.mtimeMs} sha ${createHash('sha256').update(readFileSync(full)).digest('hex')}`,
      )
  }
  return snapshot
}

/** Bytes the server has written to its temp files under `root` so far. */
export function tempBytes(root: string): number {
  return tempFilesIn(root).reduce((sum, name) => {
    try {
      return sum + statSync(path.join(root, name)).size
    } catch {
      return sum
    }
  }, 0)
}
