/**
 * What a client's write left on the disk, told to the sync worker so that its scanner does not
 * take the server's own work for a change by another program (`local-change`). Taken when an
 * operation lets its write locks go, before the main thread is told so: the notice then reaches
 * the sync worker before any lock the scanner asks for on these names afterwards (both go through
 * the main thread, in order), which is how the scanner knows for sure. Every front end's context
 * does this in its lock (session/link-adapters.ts), so no operation can forget it.
 */
import { lstatSync } from 'node:fs'
import path from 'node:path'
import type { FileIdentity } from '../storage/temp-file.js'

/** A name as a write left it: a file with this identity, or nothing (null). */
export interface WrittenState {
  name: string
  identity: FileIdentity | null
}

/**
 * How each name looks now (not following symlinks); names that cannot be looked at are left out.
 * Synchronous: an lstat of a name just written is answered from the dentry and inode caches in
 * microseconds, while an async one waits for one of libuv's 4 pool threads, which the fsyncs of
 * the writes in flight hold for milliseconds (one wait per small file in a `put`).
 */
export function writtenStates(root: string, names: readonly string[]): WrittenState[] {
  const states: WrittenState[] = []
  for (const name of new Set(names)) {
    try {
      const st = lstatSync(path.join(root, ...name.split('/')), { throwIfNoEntry: false })
      states.push({
        name,
        identity: st?.isFile() ? { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino } : null,
      })
    } catch (err) {
      const code = (err as { code?: unknown }).code
      if (code === 'ENOTDIR') states.push({ name, identity: null })
    }
  }
  return states
}
