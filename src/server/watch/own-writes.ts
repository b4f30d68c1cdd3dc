/**
 * The server's own writes, as the scanner must recognise them: a client's operation (told by the
 * main thread, under the operation's lock) or the applier's work (told in this thread) left a
 * name as a file with this fingerprint, or absent. A change the scanner finds that matches one is
 * the server's own; any other is a change by another program (`local-change`).
 *
 * Each notice is numbered (a tick) so that the scanner can tell the notices that were in before it
 * looked at a name from those that came in after: one from before that does not match what it
 * saw is outdated (the name changed again since) and is dropped.
 */
import type { EntryRequest } from '../../protocol/index.js'
import { sameFingerprint, type Fingerprint } from '../index/entry.js'

/** One notice: what a write left at a name, and the client request (rid) that wrote it, if any. */
export interface Notice {
  tick: number
  fp: Fingerprint | null
  request?: EntryRequest | undefined
}

/** Notices kept per name: a few writes in a row, before the scanner looks, all stay known. */
const PER_NAME = 8
/**
 * Names with notices kept before the oldest go (a notice is normally used within milliseconds).
 * Only names told at least KEEP_MS ago are let go: one folder operation may tell more names than
 * this at once, and none of its own may be pushed out by the rest of it.
 */
const MAX_NAMES = 10_000
const KEEP_MS = 60_000

export class OwnWrites {
  readonly #expected = new Map<string, Notice[]>()
  /** When each name was last told (ms), in the map's order. */
  readonly #toldAt = new Map<string, number>()
  #tick = 0
  readonly #now: () => number

  constructor(now: () => number = Date.now) {
    this.#now = now
  }

  /** The tick now: notices after it came in after this moment. */
  get tick(): number {
    return this.#tick
  }

  /**
   * `name` was left so by the server: a file with this fingerprint, or absent (null); `request`:
   * the client request that did it (its entry will carry it).
   */
  add(name: string, fp: Fingerprint | null, request?: EntryRequest): void {
    const list = this.#expected.get(name) ?? []
    list.push(request ? { tick: ++this.#tick, fp, request } : { tick: ++this.#tick, fp })
    if (list.length > PER_NAME) list.shift()
    this.#expected.set(name, list)
    const now = this.#now()
    this.#toldAt.delete(name) // re-inserted last: the map's order is the age of its names
    this.#toldAt.set(name, now)
    for (const [oldest, at] of this.#toldAt) {
      if (this.#toldAt.size <= MAX_NAMES || at > now - KEEP_MS) break
      this.#forget(oldest)
    }
  }

  #forget(name: string): void {
    this.#expected.delete(name)
    this.#toldAt.delete(name)
  }

  /**
   * Is `fp` at `name` (seen by a look that began at `since`) the server's own? A match uses the
   * notice and drops the older ones. Without a match, notices from before `since` are dropped:
   * the name has moved on from them. `lateOnly`: only notices that came in after `since` count.
   */
  match(name: string, fp: Fingerprint | null, since: number, lateOnly = false): boolean {
    return this.matchNotice(name, fp, since, lateOnly) !== undefined
  }

  /** As match, and returns the notice matched (its request, when a client's request wrote it). */
  matchNotice(
    name: string,
    fp: Fingerprint | null,
    since: number,
    lateOnly = false,
  ): Notice | undefined {
    const list = this.#expected.get(name)
    if (!list) return undefined
    const at = list.findIndex((n) => (!lateOnly || n.tick > since) && sameFingerprint(n.fp, fp))
    const kept = at >= 0 ? list.slice(at + 1) : list.filter((n) => n.tick > since)
    if (kept.length > 0) this.#expected.set(name, kept)
    else this.#forget(name)
    return at >= 0 ? list[at] : undefined
  }

  /** The server stored `name` itself, as the disk is: what was told of it before is outdated. */
  settled(name: string): void {
    this.#forget(name)
  }
}
