/**
 * Walks the data directory: every regular file, by name, with size and mtime, and every symbolic
 * link, as a link (never followed: a link is not mirrored, and a link to a folder could loop).
 * Temporary files are never listed.
 */
import type { Dirent } from 'node:fs'
import { lstat, readdir, unlink } from 'node:fs/promises'
import path from 'node:path'
import { TEMP_PREFIX } from '../../protocol/names.js'
import type { FileInfo } from './file-store.js'
import type { PathJail } from './path-jail.js'
import type { FileIdentity } from './temp-file.js'

/** A name on this server's disk as the listing shows it. */
export type ListedEntry =
  | (FileInfo & { kind: 'file'; identity: FileIdentity })
  /** A symbolic link: size 0, the link's own mtime. */
  | (FileInfo & { kind: 'symlink' })

/** All files and symlinks under the root, sorted by name (code-point order, as on every server). */
export async function listFiles(jail: PathJail): Promise<ListedEntry[]> {
  const files: ListedEntry[] = []
  await walk(jail, jail.root, files)
  files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return files
}

async function walk(jail: PathJail, dir: string, out: ListedEntry[]): Promise<void> {
  let entries: Dirent[]
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch {
    return // vanished while walking
  }
  for (const entry of entries) {
    if (entry.name.startsWith(TEMP_PREFIX)) continue
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) await walk(jail, full, out)
    else if (entry.isFile() || entry.isSymbolicLink()) await push(jail, full, out)
  }
}

async function push(jail: PathJail, full: string, out: ListedEntry[]): Promise<void> {
  try {
    // lstat: the entry itself, which is what the scanner indexes (a link never is).
    const st = await lstat(full)
    const name = jail.nameOf(full)
    const mtime = Math.round(st.mtimeMs)
    if (st.isFile())
      out.push({
        kind: 'file',
        name,
        size: st.size,
        mtime,
        identity: { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino },
      })
    else if (st.isSymbolicLink()) out.push({ kind: 'symlink', name, size: 0, mtime })
  } catch {
    // deleted between readdir and lstat: not listed
  }
}

/** Remove temp files left by a crash (run at startup, before serving). Returns how many. */
export async function removeLeftoverTempFiles(root: string): Promise<number> {
  let removed = 0
  const visit = async (dir: string): Promise<void> => {
    let entries: Dirent[]
    try {
      entries = await readdir(dir, { withFileTypes: true })
    } catch {
      return
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) await visit(full)
      else if (entry.name.startsWith(TEMP_PREFIX)) {
        await unlink(full).catch(() => undefined)
        removed++
      }
    }
  }
  await visit(root)
  return removed
}
