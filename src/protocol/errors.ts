/**
 * The one catalogue of error codes. Codes are the contract: they cross the wire and
 * threads as plain `{ code, message }` objects, and each is documented in docs/ERRORS.md (a test
 * keeps the two in step). Nothing else in the code base invents error codes.
 */

export const ErrorCodes = {
  ERR_NOT_FOUND: 'The named file does not exist.',
  ERR_EXISTS: 'A file with the target name already exists (create, rename).',
  ERR_BAD_PATH:
    'The name is not allowed: absolute, contains "..", NUL or control characters, is too long, names a folder or the server\'s own files, or leads outside the data directory through a symlink.',
  ERR_IS_DIRECTORY:
    'The name is a folder; operations act on files (a folder is deleted with recursive: rm -r).',
  ERR_LOCKED:
    'The file (or a file in the folder) is locked by another client, or by you for a rename; the message names the holder.',
  ERR_NOT_OWNER:
    'Only the owner of a lock may release it (unless forced); the message names the holder.',
  ERR_LISTING_CHANGED:
    'The listing changed since the client read it: the index given now names another file (list again).',
  ERR_BUSY:
    'The server already serves its maximum number of clients, or holds its maximum of connections that have not said hello yet (from this address or in all); retry after `retryAfterMs`.',
  ERR_BAD_FRAME: 'The bytes received are not a valid frame (bad magic, unknown type, truncated).',
  ERR_TOO_LARGE: 'A frame is over its hard size limit.',
  ERR_BAD_REQUEST: 'A control message failed schema validation, or arrived out of order.',
  ERR_UNKNOWN_OPERATION: 'The request names an operation this server does not know.',
  ERR_UNSUPPORTED_VERSION: 'The two sides speak different protocol versions.',
  ERR_INTEGRITY: "The SHA-256 of the body received does not match the sender's.",
  ERR_NO_SPACE: "The server's disk is full (or over quota); nothing was changed.",
  ERR_PERMISSION: "The server's operating system refused access to the file.",
  ERR_PEER_UNREACHABLE: 'A peer server could not be reached.',
  ERR_AUTH:
    'A peer server could not prove the cluster key (another key, a forged or replayed proof), or one of the two has a key and the other none.',
  ERR_MOVED:
    'This server does not hold the file (--replicas): `holders` names the members that do; the binary client follows by itself, HTTP answers 307 to one of them.',
  ERR_REPLICAS_MISMATCH:
    'A peer server keeps another number of copies of each file (--replicas): every member of a cluster must agree.',
  ERR_SYNC_REFUSED:
    'The server does not sync: its data directory looks emptied or vanished while its index lists files (a mass deletion is never propagated). The server console says how to resume.',
  ERR_TIMEOUT:
    'An operation waited too long: a lock wait past its bound, a connection that sent no whole hello in time, or an idle connection closed.',
  ERR_CONNECTION_CLOSED: 'The connection ended before the answer arrived (client side).',
  ERR_UNREACHABLE:
    'The server could not be reached: refused, no route, or no answer (client side).',
  ERR_USAGE:
    'The command line is wrong: unknown command or option, missing argument (client side).',
  ERR_INTERRUPTED: 'The command was stopped by Ctrl+C (client side); it exits with status 130.',
  ERR_PORT_IN_USE:
    'The server cannot start: another program already listens on one of its ports (control, file exchange or HTTP).',
  ERR_STATE_LOCKED:
    'The server cannot start: another server already runs on this data directory or state directory.',
  ERR_PRECONDITION:
    "A conditional write's If-Match or If-None-Match does not hold for the file as it is (HTTP); nothing was changed.",
  ERR_RANGE: 'The byte range asked for is not inside the file (HTTP).',
  ERR_CROSS_SITE:
    "An HTTP request from another site's page (its Origin), or for a host name this server does not answer to (DNS rebinding); refused.",
  ERR_SHUTTING_DOWN: 'The server is stopping and takes no new work.',
  ERR_INTERNAL: "An unexpected server error; the details are in the server's console.",
} as const satisfies Record<string, string>

export type ErrorCode = keyof typeof ErrorCodes

/**
 * The HTTP status each code is answered with by the HTTP front end (docs/ERRORS.md lists them in
 * its "HTTP" column; a test keeps the two in step). Client-side codes, and the server's startup
 * failures, never reach HTTP: 500.
 */
export const HttpStatus = {
  ERR_NOT_FOUND: 404,
  ERR_EXISTS: 409,
  ERR_BAD_PATH: 400,
  ERR_IS_DIRECTORY: 400,
  ERR_LOCKED: 423,
  ERR_NOT_OWNER: 403,
  ERR_LISTING_CHANGED: 409,
  ERR_BUSY: 503,
  ERR_BAD_FRAME: 400,
  ERR_TOO_LARGE: 413,
  ERR_BAD_REQUEST: 400,
  ERR_UNKNOWN_OPERATION: 400,
  ERR_UNSUPPORTED_VERSION: 400,
  ERR_INTEGRITY: 400,
  ERR_NO_SPACE: 507,
  ERR_PERMISSION: 403,
  ERR_PEER_UNREACHABLE: 502,
  ERR_AUTH: 403,
  ERR_MOVED: 307,
  ERR_REPLICAS_MISMATCH: 409,
  ERR_SYNC_REFUSED: 503,
  ERR_TIMEOUT: 408,
  ERR_CONNECTION_CLOSED: 500,
  ERR_UNREACHABLE: 500,
  ERR_USAGE: 500,
  ERR_INTERRUPTED: 500,
  ERR_PORT_IN_USE: 500,
  ERR_STATE_LOCKED: 500,
  ERR_PRECONDITION: 412,
  ERR_RANGE: 416,
  ERR_CROSS_SITE: 403,
  ERR_SHUTTING_DOWN: 503,
  ERR_INTERNAL: 500,
} as const satisfies Record<ErrorCode, number>

export const ERROR_CODES = Object.keys(ErrorCodes) as ErrorCode[]

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ErrorCodes, value)
}

/** How an error crosses the wire or a thread boundary. */
export interface WireError {
  code: ErrorCode
  message: string
  /** For ERR_BUSY: when to try again. */
  retryAfterMs?: number | undefined
  /** For ERR_MOVED: the members that hold the file. */
  holders?: Holder[] | undefined
}

/** A member that holds a file (ERR_MOVED): where a client reaches it. */
export interface Holder {
  name: string
  /** HOST:PORT of its control port (the binary protocol). */
  address: string
  /** HOST:PORT of its HTTP API, when it serves one. */
  http?: string | undefined
  /**
   * Whether the answering server's link to it is up now (absent: not told). A holder known down
   * is named after every holder that is up.
   */
  up?: boolean | undefined
}

/** The error class thrown by tandem code. It carries a stable code; compare codes, not messages. */
export class TandemError extends Error {
  readonly code: ErrorCode
  readonly retryAfterMs: number | undefined
  readonly holders: Holder[] | undefined

  constructor(
    code: ErrorCode,
    message: string,
    options?: { retryAfterMs?: number; holders?: Holder[]; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'TandemError'
    this.code = code
    this.retryAfterMs = options?.retryAfterMs
    this.holders = options?.holders
  }

  toWire(): WireError {
    const wire: WireError = { code: this.code, message: this.message }
    if (this.retryAfterMs !== undefined) wire.retryAfterMs = this.retryAfterMs
    if (this.holders !== undefined) wire.holders = this.holders
    return wire
  }

  static fromWire(wire: WireError): TandemError {
    const code = isErrorCode(wire.code) ? wire.code : 'ERR_INTERNAL'
    const options: { retryAfterMs?: number; holders?: Holder[] } = {}
    if (wire.retryAfterMs !== undefined) options.retryAfterMs = wire.retryAfterMs
    if (wire.holders !== undefined) options.holders = wire.holders
    return new TandemError(code, wire.message, options)
  }
}

/** Any thrown value as a WireError; unknown errors become ERR_INTERNAL (the caller logs them). */
export function toWireError(err: unknown): WireError {
  if (err instanceof TandemError) return err.toWire()
  if (typeof err === 'object' && err !== null && 'code' in err && isErrorCode(err.code)) {
    const message = 'message' in err && typeof err.message === 'string' ? err.message : err.code
    return { code: err.code, message }
  }
  return { code: 'ERR_INTERNAL', message: 'internal server error' }
}

export function isTandemError(err: unknown, code?: ErrorCode): err is TandemError {
  return err instanceof TandemError && (code === undefined || err.code === code)
}
