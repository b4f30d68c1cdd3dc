/**
 * How the applier tells a failure of one entry (set aside, the rest goes on) from one of the
 * peer or of syncing as a whole (the batch fails and is retried), and the expected ones (the
 * peer's copy changed meanwhile: its newer version is on its way).
 */
import { Superseded } from './content-client.js'

/**
 * Failures of one entry (set aside, the rest goes on); the others — the peer gone or broken,
 * syncing stopped or refused, the server stopping — fail the whole batch, which is retried.
 */
export function concernsOneEntry(err: unknown): boolean {
  const code = (err as { code?: unknown }).code
  return !(
    code === 'ERR_PEER_UNREACHABLE' ||
    code === 'ERR_BAD_FRAME' ||
    code === 'ERR_SYNC_REFUSED' ||
    code === 'ERR_SHUTTING_DOWN'
  )
}

/**
 * The peer's copy changed before or while we fetched it: expected, silent, and the peer
 * announces the new version. (A local ERR_NOT_FOUND, a temp file removed under us, is not this.)
 */
export function isSuperseded(err: unknown): boolean {
  return err instanceof Superseded || (err as { code?: unknown }).code === 'ERR_INTEGRITY'
}

/** Failures that concern one entry only: the peer will announce something newer. */
export function isSkippable(err: unknown): boolean {
  const code = (err as { code?: unknown }).code
  return code === 'ERR_BAD_PATH' || code === 'ERR_IS_DIRECTORY' || code === 'ERR_PERMISSION'
}
