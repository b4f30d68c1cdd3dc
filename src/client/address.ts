/**
 * Server addresses as users write them (HOST:PORT, [IPv6]:PORT), and what it means when one
 * cannot be reached.
 */
import { TandemError } from '../protocol/client.js'

export interface ServerAddress {
  host: string
  port: number
}

/** Parse "HOST:PORT" or "[V6]:PORT". Throws a TypeError naming what is wrong. */
export function parseAddress(text: string): ServerAddress {
  const trimmed = text.trim()
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(trimmed) ?? /^([^:[\]]+):(\d+)$/.exec(trimmed)
  const port = match ? Number(match[2]) : NaN
  if (!match || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new TypeError(`'${text}' is not a server address (expected HOST:PORT)`)
  }
  return { host: match[1]!, port }
}

/** Parse a comma-separated list of addresses; at least one is required. */
export function parseAddressList(text: string): ServerAddress[] {
  const parts = text.split(',').filter((part) => part.trim() !== '')
  if (parts.length === 0) throw new TypeError('no server address given')
  return parts.map(parseAddress)
}

export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

const UNREACHABLE_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'timed out',
}

/** The error for a failed TCP connect; the original error is kept as the cause. */
export function unreachable(host: string, port: number, cause: Error): TandemError {
  const errno = (cause as NodeJS.ErrnoException).code ?? ''
  const reason = UNREACHABLE_REASONS[errno] ?? cause.message
  const message = `cannot reach the server at ${formatAddress(host, port)}: ${reason}`
  return new TandemError('ERR_UNREACHABLE', message, { cause })
}

/** True if connecting failed because nothing answered there (refused, unreachable, timed out). */
export function isUnreachable(error: unknown): boolean {
  return (
    error instanceof TandemError &&
    (error.code === 'ERR_UNREACHABLE' || error.code === 'ERR_TIMEOUT')
  )
}
