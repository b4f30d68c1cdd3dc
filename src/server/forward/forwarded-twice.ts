/**
 * Roles: a secondary whose client is itself another secondary's forwarding connection (its hello
 * says "forwarded by", see primary-link.ts). Two servers named each other's --primary would
 * otherwise send one write round the loop, a new connection and a client slot at each hop, until
 * the slots ran out. A forwarded write is never forwarded again: it is refused at once with
 * ERR_PEER_UNREACHABLE, which the first secondary passes back to its client.
 */
import { TandemError } from '../../protocol/index.js'
import type { ForwardedBody, Forwarder } from '../ops/forwarding.js'

/** What PrimaryLink's hello says in `software`; a hello that says it came from a secondary. */
export const FORWARDED_BY = '(forwarded by '

export function isForwardedHello(hello: { software?: string | undefined }): boolean {
  return hello.software?.includes(FORWARDED_BY) === true
}

export class ForwardedTwice implements Forwarder {
  readonly primary: string
  readonly #error: TandemError

  constructor(primary: string, serverName: string, software: string) {
    this.primary = primary
    this.#error = new TandemError(
      'ERR_PEER_UNREACHABLE',
      `the primary cannot be reached: ${serverName} is a secondary too (its --primary is ${primary}) and ` +
        `does not forward a write that came forwarded (${software}); give every secondary the primary's address`,
    )
  }

  call<T>(): Promise<T> {
    return Promise.reject(this.#error)
  }

  /** Nothing to close (as PrimaryLink.close). */
  close(): void {}

  /** Thrown at once: the body is then read and dropped, and answered with this error. */
  body(): ForwardedBody {
    throw this.#error
  }
}
