/**
 * The one place where Node's fs error codes become tandem error codes. Everything above the
 * storage layer sees only TandemErrors.
 */
import { TandemError } from '../../protocol/errors.js'

const FS_CODE_MAP: Record<string, (name: string) => TandemError> = {
  ENOENT: (name) => new TandemError('ERR_NOT_FOUND', `no file '${name}'`),
  ENOTDIR: (name) =>
    new TandemError('ERR_NOT_FOUND', `no file '${name}' (a part of the path is a file)`),
  EEXIST: (name) => new TandemError('ERR_EXISTS', `'${name}' already exists`),
  EISDIR: (name) => new TandemError('ERR_IS_DIRECTORY', `'${name}' is a folder`),
  ENOTEMPTY: (name) => new TandemError('ERR_IS_DIRECTORY', `'${name}' is a folder`),
  ENOSPC: (name) =>
    new TandemError('ERR_NO_SPACE', `no space left on the server's disk while writing '${name}'`),
  EDQUOT: (name) => new TandemError('ERR_NO_SPACE', `disk quota exceeded while writing '${name}'`),
  EFBIG: (name) =>
    new TandemError('ERR_TOO_LARGE', `'${name}' is larger than the server's file system allows`),
  EACCES: (name) => new TandemError('ERR_PERMISSION', `the server may not access '${name}'`),
  EPERM: (name) => new TandemError('ERR_PERMISSION', `the server may not access '${name}'`),
  EROFS: (name) =>
    new TandemError('ERR_PERMISSION', `the server's file system is read-only ('${name}')`),
  ENAMETOOLONG: (name) =>
    new TandemError('ERR_BAD_PATH', `'${name}' is too long for the server's file system`),
  ELOOP: (name) => new TandemError('ERR_BAD_PATH', `'${name}' is a symlink loop`),
}

/** Translate an fs error about `name` into a TandemError; unknown errors pass through unchanged. */
export function mapFsError(err: unknown, name: string): unknown {
  if (err instanceof TandemError) return err
  const code =
    typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined
  const make = code === undefined ? undefined : FS_CODE_MAP[code]
  return make ? make(name) : err
}

/** Run an fs operation and translate its errors. */
export async function withFsErrors<T>(name: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op()
  } catch (err) {
    throw mapFsError(err, name)
  }
}

export function isFsCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && err.code === code
}
