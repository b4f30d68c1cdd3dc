/**
 * The rules for file names on the wire: relative, '/'-separated, no '.' or '..'
 * segments, no NUL or control characters, bounded length, and not one of the server's own hidden
 * names. Pure string checks; the storage layer adds the symlink check against the real disk.
 */
import { NameLimits } from './constants.js'
import { TandemError } from './errors.js'

/** Prefix of the server's temporary files: never listed, never served, removed at startup. */
export const TEMP_PREFIX = '.tandem-tmp-'

// C0, DEL and C1 controls.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/
/** A lone UTF-16 surrogate: the file system would store U+FFFD, so two names would meet. */
const LONE_SURROGATE = /\p{Cs}/u

/** True for names the server keeps for itself (temp files); they are hidden and refused. */
export function isReservedName(segment: string): boolean {
  return segment.startsWith(TEMP_PREFIX)
}

/**
 * Check a client-supplied name and return its canonical form (no leading './', no doubled or
 * trailing slashes). Throws ERR_BAD_PATH with the reason.
 */
export function normalizeName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) throw badPath('name is empty')
  if (CONTROL_CHARS.test(name)) throw badPath('name contains NUL or control characters')
  if (LONE_SURROGATE.test(name)) throw badPath('name is not valid Unicode (lone surrogate)')
  if (name.includes('\\')) throw badPath('name contains a backslash; use "/" between folders')
  if (name.startsWith('/')) throw badPath('absolute paths are not allowed')
  if (Buffer.byteLength(name, 'utf8') > NameLimits.maxPathBytes) {
    throw badPath(`name is longer than ${NameLimits.maxPathBytes} bytes`)
  }
  const segments = name.split('/').filter((s) => s !== '' && s !== '.')
  if (segments.length === 0) throw badPath('name is empty')
  for (const segment of segments) {
    if (segment === '..') throw badPath('".." is not allowed in names')
    if (Buffer.byteLength(segment, 'utf8') > NameLimits.maxSegmentBytes) {
      throw badPath(`a part of the name is longer than ${NameLimits.maxSegmentBytes} bytes`)
    }
    if (isReservedName(segment)) throw badPath(`names starting with ${TEMP_PREFIX} are reserved`)
  }
  return segments.join('/')
}

function badPath(reason: string): TandemError {
  return new TandemError('ERR_BAD_PATH', reason)
}
