/**
 * Why `tandem serve` could not start, as one catalogue code and one line: a port another program
 * holds (ERR_PORT_IN_USE), a data directory it cannot write (ERR_PERMISSION), a directory another
 * server holds (ERR_STATE_LOCKED), bad options (ERR_USAGE). main.ts prints `error: CODE: message`
 * and exits; a person learns what to change, never a stack trace (TANDEM_DEBUG=1 adds it).
 */
import { TandemError, type ErrorCode } from '../protocol/errors.js'
import { ConfigError } from './config.js'
import { DirectoryLockedError } from './state/directory-lock.js'

/** What failed and the port it wanted: "control port", 8001, "--port". */
export interface PortRole {
  what: string
  host: string
  port: number
  flag: string
}

/**
 * A failure to listen on a port as a TandemError naming the port and the option that sets it. The
 * error may come from another thread (the sync and HTTP workers), where only its text survives.
 */
export function listenFailure(err: unknown, role: PortRole): unknown {
  const text =
    err instanceof Error
      ? `${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}`
      : String(err)
  const where = `${role.what} ${role.host}:${role.port}`
  if (/\bEADDRINUSE\b/.test(text))
    return new TandemError(
      'ERR_PORT_IN_USE',
      `${where} is already in use by another program (another tandem server?); stop it, or choose another port with ${role.flag} (0 picks a free one)`,
      { cause: err },
    )
  if (/\bEACCES\b/.test(text))
    return new TandemError(
      'ERR_PERMISSION',
      `not allowed to listen on ${where}; choose a port above 1023 with ${role.flag}`,
      { cause: err },
    )
  if (/\bEADDRNOTAVAIL\b/.test(text))
    return new TandemError(
      'ERR_USAGE',
      `cannot listen on ${where}: ${role.host} is not an address of this machine (--host)`,
      { cause: err },
    )
  return err
}

const FILE_SYSTEM: Record<string, { code: ErrorCode; what: string }> = {
  EACCES: { code: 'ERR_PERMISSION', what: 'permission denied' },
  EPERM: { code: 'ERR_PERMISSION', what: 'operation not permitted' },
  EROFS: { code: 'ERR_PERMISSION', what: 'read-only file system' },
  ENOSPC: { code: 'ERR_NO_SPACE', what: 'no space left on the disk' },
  EDQUOT: { code: 'ERR_NO_SPACE', what: 'disk quota exceeded' },
  ENOTDIR: { code: 'ERR_BAD_PATH', what: 'not a folder' },
  EEXIST: { code: 'ERR_BAD_PATH', what: 'a file is in the way' },
}

/**
 * A failure of the data or state directory (creating it, locking it, checking it is writable) as
 * a TandemError saying which directory and what the system said.
 */
export function directoryFailure(err: unknown, what: string, dir: string): unknown {
  const errno = (err as NodeJS.ErrnoException | undefined)?.code
  const known = errno === undefined ? undefined : FILE_SYSTEM[errno]
  if (!known) return err
  return new TandemError(known.code, `cannot use ${dir} as the ${what}: ${known.what} (${errno})`, {
    cause: err,
  })
}

/** The one line and the exit status for whatever ended the start. */
export function describeStartupFailure(err: unknown): {
  code: ErrorCode
  message: string
  status: number
} {
  if (err instanceof DirectoryLockedError)
    return { code: 'ERR_STATE_LOCKED', message: err.message, status: 3 }
  if (err instanceof ConfigError) return { code: 'ERR_USAGE', message: err.message, status: 2 }
  if (err instanceof TandemError)
    return { code: err.code, message: err.message, status: err.code === 'ERR_USAGE' ? 2 : 1 }
  const message = err instanceof Error ? err.message : String(err)
  // The first line only: a worker's error text carries its stack.
  return { code: 'ERR_INTERNAL', message: message.split('\n')[0] ?? message, status: 1 }
}
