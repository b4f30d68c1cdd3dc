/**
 * The engine's members: one PeerLink per peer this server follows, found by name (a set-aside
 * retry or a queued update fetches through the link to its peer).
 */
import type { PeerStatus } from '../../protocol/index.js'
import type { PeerLink } from './peer-link.js'

export class Members {
  readonly #links: PeerLink[] = []

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

  /** The link to the peer called `name` (by the name it gave, or its address until then). */
  byName(name: string): PeerLink | undefined {
    return this.#links.find((link) => link.name === name)
  }

  status(): PeerStatus[] {
    return this.#links.map((link) => link.status())
  }

  startAll(): void {
    for (const link of this.#links) link.start()
  }

  stopAll(): void {
    for (const link of this.#links) link.stop()
  }
}
