/**
 * Before the applier changes a name, the disk must still look as the index last saw it: else a
 * local change has not been scanned yet, and applying would overwrite it unseen.
 */
import { TandemError } from '../../protocol/errors.js'
import type { LocalEntry } from '../index/entry.js'
import { sameFingerprint } from '../index/entry.js'
import { probe } from '../watch/disk-probe.js'

/** The disk no longer looks as the index says: scan, then plan again. */
export class Stale extends Error {}

export async function expectDisk(path: string, local: LocalEntry | undefined): Promise<void> {
  const now = await probe(path)
  if (now.kind === 'dir') throw new TandemError('ERR_IS_DIRECTORY', `'${path}' is a folder here`)
  if (now.kind === 'other')
    throw new TandemError('ERR_BAD_PATH', `'${path}' is a symlink or special file here: left as is`)
  const expected = local && !local.deleted ? local.fingerprint : null
  const actual = now.kind === 'file' ? now.fingerprint : null
  if (!sameFingerprint(expected, actual)) throw new Stale('changed on disk')
}
