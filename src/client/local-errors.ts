/**
 * Failures of the local file system (the client's disk) as TandemErrors with the catalogue's
 * codes, so that the CLI and the menu report them like server errors: `error: ERR_NOT_FOUND: ...`.
 */
import { TandemError } from '../protocol/client.js'

const CODES: Record<string, { code: TandemError['code']; what: string }> = {
  ENOENT: { code: 'ERR_NOT_FOUND', what: 'no such local file or folder' },
  ENOTDIR: { code: 'ERR_NOT_FOUND', what: 'a part of the local path is not a folder' },
  EACCES: { code: 'ERR_PERMISSION', what: 'permission denied' },
  EPERM: { code: 'ERR_PERMISSION', what: 'operation not permitted' },
  EROFS: { code: 'ERR_PERMISSION', what: 'read-only file system' },
  EISDIR: { code: 'ERR_IS_DIRECTORY', what: 'is a folder' },
  ENOSPC: { code: 'ERR_NO_SPACE', what: 'no space left on the local disk' },
  EDQUOT: { code: 'ERR_NO_SPACE', what: 'disk quota exceeded' },
  EEXIST: { code: 'ERR_EXISTS', what: 'already exists' },
}

/** `err` as a TandemError; errors that already are one pass through unchanged. */
export function localError(err: unknown, localPath: string): TandemError {
  if (err instanceof TandemError) return err
  const errno = (err as NodeJS.ErrnoException | undefined)?.code
  const known = errno === undefined ? undefined : CODES[errno]
  if (known) return new TandemError(known.code, `'${localPath}': ${known.what}`, { cause: err })
  const message = err instanceof Error ? err.message : String(err)
  return new TandemError('ERR_INTERNAL', `'${localPath}': ${message}`, { cause: err })
}
