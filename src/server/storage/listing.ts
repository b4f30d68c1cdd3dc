/**
 * Walks the data directory: every regular file, by name, with size and mtime. Temporary files are
 * never listed; symlinks are listed only when they lead to a file inside the root.
 */
import type { Dirent } from 'node:fs'
import { readdir, realpath, stat, unlink } from 'node:fs/promises'
import path from 'node:path'
import { TEMP_PREFIX } from '../../protocol/index.js'
import type { FileInfo } from './file-store.js'
import type { PathJail } from './path-jail.js'

/** All files under the root, sorted by name (code-point order, the same on every server). */
export async function listFiles(jail: PathJail): Promise<FileInfo[]> {
  const files: FileInfo[] = []
  await walk(jail, jail.root, files)
  files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return files
}

async function walk(jail: PathJail, dir: string, out: FileInfo[]): Promise<void> {
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
    else if (entry.isFile()) await pushFile(jail, full, out)
    else if (entry.isSymbolicLink() && (await linksInside(jail, full)))
      await pushFile(jail, full, out)
  }
}

async function pushFile(jail: PathJail, full: string, out: FileInfo[]): Promise<void> {
  try {
    const st = await stat(full)
    if (st.isFile())
      out.push({ name: jail.nameOf(full), size: st.size, mtime: Math.round(st.mtimeMs) })
  } catch {
    // deleted between readdir and stat: not listed
  }
}

async function linksInside(jail: PathJail, full: string): Promise<boolean> {
  try {
    return jail.contains(await realpath(full))
  } catch {
    return false
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
