/**
 * Tells the peers' index channels of changes to this server's user locks: the whole list, at
 * most once per turn of the event loop (a queue being applied changes its count per update).
 */
import type { UserLock } from '../../../protocol/index.js'

export class LockChanges {
  readonly #listeners = new Set<(locks: UserLock[]) => void>()
  #scheduled = false

  constructor(readonly list: () => UserLock[]) {}

  changed(): void {
    if (this.#scheduled) return
    this.#scheduled = true
    setImmediate(() => {
      this.#scheduled = false
      const locks = this.list()
      for (const listener of this.#listeners) listener(locks)
    })
  }

  listen(listener: (locks: UserLock[]) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }
}
