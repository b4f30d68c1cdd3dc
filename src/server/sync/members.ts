/**
 * The engine's members: one PeerLink per server this one follows (a --peer, one found by
 * discovery, the primary), found by name or address. A member is one server: a second address
 * for a known name moves the member there instead of adding another, and a link whose handshake
 * names a server another link already follows ends (see claim).
 */
import type { MemberStatus, PeerStatus } from '../../protocol/index.js'
import type { MemberSource, PeerLink } from './peer-link.js'

/** A member to add, as discovery, a --peer or a --primary tells it. */
export interface MemberInput {
  /** Its server name, when known (discovery tells it; a --peer's comes with its handshake). */
  name?: string
  /** HOST:PORT of its control port. */
  address: string
  /** Default 'discovered'. */
  source?: MemberSource
}

/** What addMember did. */
export type MemberAdded = 'added' | 'moved' | 'known' | 'self'

export class Members {
  #links: PeerLink[] = []

  add(link: PeerLink): void {
    this.#links.push(link)
  }

  /** Take `link` out (its caller stops it). */
  remove(link: PeerLink): void {
    const at = this.#links.indexOf(link)
    if (at !== -1) this.#links.splice(at, 1)
  }

  all(): readonly PeerLink[] {
    return this.#links
  }

  /** The link to the member called `name` (by the name it gave, or its address until then). */
  byName(name: string): PeerLink | undefined {
    return this.#links.find((link) => link.name === name)
  }

  byAddress(address: string): PeerLink | undefined {
    return this.#links.find((link) => link.address === address)
  }

  /**
   * `link`'s handshake says it reaches `name`: false (and the link is dropped) when another link
   * already follows that server; its address is then kept by the other one, and used by it at once
   * when the other is not connected (its address may be one the server left: `link` just reached
   * it here, so dropping `link` alone would leave the member unfollowed).
   */
  claim(link: PeerLink, name: string): boolean {
    const other = this.#links.find((l) => l !== link && l.knownName === name)
    if (!other) return true
    this.#links = this.#links.filter((l) => l !== link)
    if (other.up) other.alsoAt(link.address)
    else other.moveTo(link.address)
    return false
  }

  status(): PeerStatus[] {
    return this.#links.map((link) => link.status())
  }

  members(now = Date.now()): MemberStatus[] {
    return this.#links.map((link) => link.memberStatus(now))
  }

  startAll(): void {
    for (const link of this.#links) link.start()
  }

  stopAll(): void {
    for (const link of this.#links) link.stop()
  }
}
