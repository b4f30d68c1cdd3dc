/**
 * Small uploads of one session published in groups: the bodies sealed in the same turn of the
 * event loop, or while the previous group is being published, go together (at most `max`). Each
 * file still runs its own commit (its lock, its checks, its rename, its rid record, its answer:
 * a file refused fails alone), but all of a group's commits start in the same turn, so what they
 * ask of the main thread leaves in the same messages (the lock requests, then the rid records,
 * which the main thread stores in one transaction, the written states and unlocks), and their
 * renames share the directory fsyncs (storage/dir-sync.ts). Two uploads of one name are never in
 * one group: the later one waits for the earlier one's commit before its body is taken
 * (session/commit-pipeline.ts), which is before it can join.
 */
interface Group {
  members: number
  left: number
  start: Promise<void>
  finish: () => void
}

export class PublishGroup {
  readonly #max: number
  #open: Group | undefined
  #previous: Promise<void> = Promise.resolve()

  constructor(max = 256) {
    this.#max = max
  }

  /**
   * Join the next group; resolves when it starts, with the function to call once this file's
   * commit is over (whatever its outcome; calling it again does nothing).
   */
  async join(): Promise<() => void> {
    let group = this.#open
    if (!group || group.members >= this.#max) group = this.#open = this.#newGroup()
    group.members++
    await group.start
    let left = false
    return () => {
      if (left) return
      left = true
      if (++group.left === group.members) group.finish()
    }
  }

  #newGroup(): Group {
    let finish!: () => void
    const done = new Promise<void>((resolve) => (finish = resolve))
    const group: Group = { members: 0, left: 0, start: Promise.resolve(), finish }
    // After the previous group and the end of this turn; closed to newcomers as it starts.
    group.start = this.#previous
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(() => {
        if (this.#open === group) this.#open = undefined
      })
    this.#previous = done
    return group
  }
}
