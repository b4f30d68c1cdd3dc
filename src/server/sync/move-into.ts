/**
 * Rename a file onto another name, replacing what is there, creating missing folders, and
 * fsyncing both folders: a rename or conflict copy applied from a peer survives a crash.
 */
import { rename } from 'node:fs/promises'
import path from 'node:path'
import { fsyncDir } from '../storage/dir-sync.js'
import { mapFsError } from '../storage/fs-errors.js'
import { inFreshParent } from '../storage/temp-file.js'

export async function moveInto(from: string, to: string): Promise<void> {
  try {
    await inFreshParent(to, () => rename(from, to))
  } catch (err) {
    throw mapFsError(err, path.basename(to))
  }
  await fsyncDir(path.dirname(to))
  if (path.dirname(from) !== path.dirname(to)) await fsyncDir(path.dirname(from))
}
