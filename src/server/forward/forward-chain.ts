/**
 * Roles: which secondaries a forwarded write has passed through. PrimaryLink's hello says so in
 * `software` ("… (forwarded by S2 S1)", the last hop first; server names hold no space). A
 * secondary whose primary is itself a secondary forwards on and adds its name; one that finds its
 * own name there (two servers named each other's --primary), or a chain too long to say, refuses
 * the write at once with ERR_PEER_UNREACHABLE — otherwise the write would go round the loop, a
 * new connection and a client slot at each hop, until the slots ran out.
 */
import { TandemError } from '../../protocol/index.js'
import type { ForwardedBody, Forwarder } from '../ops/forwarding.js'

const FORWARDED_BY = '(forwarded by '
/** A hello's `software` is at most this long (the hello's schema). */
const SOFTWARE_MAX = 128
/** Secondaries a write may pass through before the primary. */
const MAX_HOPS = 4

/** The hello's `software` for a connection forwarding in the name of `via` (this server first). */
export function forwardedSoftware(version: string, via: readonly string[]): string {
  // Cut to the hello's length: the next secondary then cannot tell the chain, and refuses.
  return `tandem ${version} ${FORWARDED_BY}${via.join(' ')})`.slice(0, SOFTWARE_MAX)
}

/**
 * The secondaries a client's hello says its requests came through ([] for a real client), or
 * null when it cannot be told (cut off at the hello's length, or too many).
 */
export function forwardedVia(software: string | undefined): string[] | null {
  const at = software?.indexOf(FORWARDED_BY) ?? -1
  if (software === undefined || at === -1) return []
  const rest = software.slice(at + FORWARDED_BY.length)
  if (!rest.endsWith(')') || software.length >= SOFTWARE_MAX) return null
  const via = rest.slice(0, -1).split(' ').filter(Boolean)
  return via.length >= MAX_HOPS ? null : via
}

/** The forwarding step of a write that must not be forwarded again: refused at once. */
export class ForwardingLoop implements Forwarder {
  readonly primary: string
  readonly #error: TandemError

  constructor(primary: string, serverName: string, software: string) {
    this.primary = primary
    this.#error = new TandemError(
      'ERR_PEER_UNREACHABLE',
      `the primary cannot be reached: this write came forwarded (${software}) to ${serverName}, ` +
        `a secondary too (its --primary is ${primary}), in a loop or too long a chain; give every secondary the primary's address`,
    )
  }

  call<T>(): Promise<T> {
    return Promise.reject(this.#error)
  }

  /** Thrown at once: the body is then read and dropped, and answered with this error. */
  body(): ForwardedBody {
    throw this.#error
  }

  /** Nothing to close (as PrimaryLink.close). */
  close(): void {}
}
