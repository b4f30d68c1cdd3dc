/**
 * Folders on disk, for the operations that act on a whole folder (`rm -r`, `mv` of a folder):
 * what is in one, removing its files and then its emptied sub-folders, and moving it whole with
 * one rename. Callers hold the write locks on every name involved.
 */
import type { Dirent } from 'node:fs'
import { lstat, readdir, realpath, rename, rmdir, unlink } from 'node:fs/promises'
import path from 'node:path'
import { TEMP_PREFIX, TandemError } from '../../protocol/index.js'
import { fsyncDir } from './dir-sync.js'
import { isFsCode, mapFsError, withFsErrors } from './fs-errors.js'
import type { PathJail, ResolvedName } from './path-jail.js'
import { inFreshParent } from './temp-file.js'

/** What a name is on disk, not following a symlink at the name itself. */
export async function kindOf(file: ResolvedName): Promise<'folder' | 'other' | 'absent'> {
  try {
    return (await lstat(file.path)).isDirectory() ? 'folder' : 'other'
  } catch (err) {
    if (isFsCode(err, 'ENOENT') || isFsCode(err, 'ENOTDIR')) return 'absent'
    throw mapFsError(err, file.name)
  }
}

/**
 * Every entry under `folder` that is not a folder (files, symlinks, anything another program
 * made), as names, sorted: what a folder operation must lock. Temp files are left out: each
 * belongs to a write to some name, which that name's lock covers. Symlinked folders are entries,
 * never followed.
 */
export async function entriesUnder(jail: PathJail, folder: ResolvedName): Promise<string[]> {
  const out: string[] = []
  const visit = async (dir: string): Promise<void> => {
    let entries: Dirent[]
    try {
      entries = await readdir(dir, { withFileTypes: true })
    } catch (err) {
      if (isFsCode(err, 'ENOENT') || isFsCode(err, 'ENOTDIR')) return // vanished meanwhile
      throw mapFsError(err, jail.nameOf(dir))
    }
    for (const entry of entries) {
      if (entry.name.startsWith(TEMP_PREFIX)) continue
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) await visit(full)
      else out.push(jail.nameOf(full))
    }
  }
  await visit(folder.path)
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}

/**
 * Delete the entries `names` (found by entriesUnder in `folder`), then every sub-folder left
 * empty, the folder itself, and parents it leaves empty. Each unlink is atomic: a crash leaves
 * some files deleted and the others whole. Returns how many were deleted (some may have gone
 * meanwhile). A folder still holding something (a file made since) stays. The temp files of
 * writes still arriving in it are removed: the folder wins, and those writes fail at their
 * commit, saying that their folder went.
 */
export async function deleteTree(
  jail: PathJail,
  folder: ResolvedName,
  names: readonly string[],
): Promise<number> {
  let deleted = 0
  const checked = new Map<string, boolean>()
  const dirs = new Set<string>()
  for (const name of names) {
    const full = path.join(jail.root, ...name.split('/'))
    const dir = path.dirname(full)
    // The walk did not follow symlinks; a folder swapped for one since must not lead us outside.
    if (!checked.has(dir)) checked.set(dir, await isRealFolderInside(jail, dir))
    if (!checked.get(dir))
      throw new TandemError('ERR_BAD_PATH', `'${name}' leads outside the data directory`)
    try {
      await unlink(full)
      deleted++
    } catch (err) {
      if (!isFsCode(err, 'ENOENT')) throw mapFsError(err, name)
    }
    dirs.add(dir)
  }
  for (const dir of dirs) await fsyncDir(dir).catch(() => undefined)
  if (await removeEmptyFolders(folder.path)) {
    await fsyncDir(path.dirname(folder.path)).catch(() => undefined)
    await pruneEmptyParents(jail, folder.path)
  }
  return deleted
}

/**
 * Move the folder `from` to `to` with one rename (its files keep their inodes, so the sync
 * worker sees renames). ERR_EXISTS when anything is at `to`: rename(2) would replace an empty
 * folder silently, so it is looked at first, under the locks. (Another program making an empty
 * folder at `to` in between would lose nothing: only an empty folder can be replaced.)
 */
export async function renameFolder(
  jail: PathJail,
  from: ResolvedName,
  to: ResolvedName,
): Promise<void> {
  if ((await kindOf(to)) !== 'absent')
    throw new TandemError('ERR_EXISTS', `'${to.name}' already exists`)
  await withFsErrors(to.name, () =>
    inFreshParent(to.path, async () => {
      try {
        await rename(from.path, to.path)
      } catch (err) {
        if (isFsCode(err, 'ENOENT') && (await kindOf(from)) === 'absent')
          throw new TandemError('ERR_NOT_FOUND', `no folder '${from.name}'`)
        if (isFsCode(err, 'ENOTEMPTY') || isFsCode(err, 'EEXIST'))
          throw new TandemError('ERR_EXISTS', `'${to.name}' already exists`)
        throw err
      }
    }),
  )
  await fsyncDir(path.dirname(to.path))
  if (path.dirname(from.path) !== path.dirname(to.path)) await fsyncDir(path.dirname(from.path))
  await pruneEmptyParents(jail, from.path)
}

/** Folders are implied by their files: remove the folders above `full` that are left empty. */
export async function pruneEmptyParents(jail: PathJail, full: string): Promise<void> {
  let dir = path.dirname(full)
  while (dir !== jail.root && jail.contains(dir)) {
    try {
      await rmdir(dir)
    } catch {
      return // not empty (or raced with a new file): stop
    }
    dir = path.dirname(dir)
  }
}

/** rmdir every folder under and at `dir` that is empty once its emptied sub-folders are gone. */
/**
 * Remove `dir` and the folders under it that hold nothing but folders and temp files. A temp
 * file there belongs to a body still arriving (or to one orphaned by a crash): it goes, so the
 * folder deleted stays deleted, and that write fails at its commit saying its folder went.
 */
async function removeEmptyFolders(dir: string): Promise<boolean> {
  let entries: Dirent[]
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch {
    return false
  }
  let empty = true
  for (const entry of entries) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) {
      if (!(await removeEmptyFolders(full))) empty = false
    } else if (entry.isFile() && entry.name.startsWith(TEMP_PREFIX)) {
      await unlink(full).catch(() => (empty = false))
    } else empty = false
  }
  if (!empty) return false
  try {
    await rmdir(dir)
    return true
  } catch {
    return false // something arrived meanwhile: it stays
  }
}

async function isRealFolderInside(jail: PathJail, dir: string): Promise<boolean> {
  try {
    const real = await realpath(dir)
    return real === dir && jail.contains(real)
  } catch {
    return true // gone: its files are gone too, nothing to unlink there
  }
}
