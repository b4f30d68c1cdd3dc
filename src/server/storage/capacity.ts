/**
 * The size of the file system that holds the data directory, in GiB (statfs: blocks × block
 * size, at least 1): the weight placement gives this member, told to peers in their welcome.
 * The size, not the free space: it is the same figure in every member's view and stays put, so
 * every member computes the same holders (free space lags and moves with every write).
 */
import { statfsSync } from 'node:fs'

const GiB = 1024 ** 3
/** A file system grown or shrunk under a running server is seen within this long. */
const REFRESH_MS = 60_000 // 1 min

export class DiskCapacity {
  readonly #dir: string
  #gib = 1
  #readAt = Number.NEGATIVE_INFINITY

  constructor(dir: string) {
    this.#dir = dir
  }

  /** GiB, read at most once a minute (1 when it cannot be read: every member weighs the same). */
  gib(now = Date.now()): number {
    if (now - this.#readAt >= REFRESH_MS) {
      this.#readAt = now
      this.#gib = capacityGiB(this.#dir)
    }
    return this.#gib
  }
}

/** The GiB of the file system holding `dir`, rounded down, at least 1. */
export function capacityGiB(dir: string): number {
  try {
    const st = statfsSync(dir)
    return Math.max(1, Math.floor((st.blocks * st.bsize) / GiB))
  } catch {
    return 1
  }
}
