/**
 * User locks, kept by the peer-sync worker: a locked file is held still here. The
 * applier asks `held(name)` before it changes a file, and hands a held file's updates to
 * `enqueue`, which keeps each with its content, in arrival order, in the index database. Unlock
 * applies the queue in order, each update through the applier (atomically, under the same write
 * locks as everything else), and only then lets the file mirror normally again.
 *
 * Choices where the meaning was open (see README "User locks"):
 * - The owner's own edits under the lock mirror out as usual; the lock holds the file still
 *   against the others, not against its owner.
 * - When the owner edited the file and a queued update is concurrent with that edit, the update
 *   meets it as a conflict (newest wins, the other is kept as a conflict copy). A queued update
 *   that a later queued one descends from (B appended v1, then v2) does not make its own conflict
 *   copy: the later one carries the same line of edits and meets the conflict instead.
 * - A lock ends with its file: a local delete (the owner's, or another program's) ends it, and
 *   the queue is applied to the tombstone (a queued modification beats the delete, as the planner
 *   rules for any concurrent modification and delete).
 */
import { TandemError } from '../../../protocol/errors.js'
import type { UserLock } from '../../../protocol/messages.js'
import type { FileEntry } from '../../index/entry.js'
import type { FileIndex } from '../../index/file-index.js'
import { compareVectors } from '../../index/version-vector.js'
import type { FileStore } from '../../storage/file-store.js'
import type { BatchApplier, HeldFiles } from '../held-files.js'
import type { PeerSource } from '../peer-source.js'
import { plan, type Action } from '../planner.js'
import { probe } from '../../watch/disk-probe.js'
import type { Release } from '../../locks/lock-manager.js'
import type { QueuedContent } from './queued-content.js'
import type { LockRow, UserLockStore } from './user-lock-store.js'

/** setTimeout's longest delay; a longer time-to-live is reached in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1
/** A lock whose time ran out but whose queue could not be applied is tried again this often. */
const EXPIRE_RETRY_MS = 5_000

/** What applying a queued update did, in the words the console and the change log use. */
const APPLIED: Record<Action['kind'], string> = {
  take: 'its new version written here',
  delete: 'the file deleted, as there',
  rename: 'the file renamed, as there',
  conflict: 'both versions kept (a conflict copy)',
  record: 'already as there',
  keep: 'the version here is newer: kept',
  skip: 'already here',
}

export interface UserLockEvent {
  op: 'lock' | 'unlock' | 'lock-queue' | 'lock-apply'
  name: string
  owner: string
  /** The peer whose update was queued or applied. */
  peer?: string
  /** Updates still waiting. */
  queued: number
  detail?: string
}

export interface UnlockOutcome {
  name: string
  owner: string
  forced: boolean
  applied: number
  conflicts: number
}

export interface UserLocksOptions {
  self: string
  store: UserLockStore
  content: QueuedContent
  index: FileIndex
  files: FileStore
  /** The main thread's per-path write locks: taking a lock waits for writes in progress. */
  lockPaths(names: readonly string[]): Promise<Release>
  /** The link to a peer, if connected (to fetch a queued content again that went missing). */
  peer?(name: string): PeerSource | undefined
  /** Look at the name on disk now (the owner's last edit may not be indexed yet). */
  scan(name: string): Promise<void>
  report(event: UserLockEvent): void
  /** The set of locks or a queue length changed (told to the main thread and the peers). */
  changed(): void
  warn(message: string): void
  now?: () => number
}

interface Held extends LockRow {
  /** The unlock in progress (the queue being applied), if any. */
  draining?: Promise<UnlockOutcome>
  timer?: NodeJS.Timeout
}

export class UserLocks implements HeldFiles {
  readonly #o: UserLocksOptions
  /** Applies a queued update (bypassing the lock on `source.unlocks`); see applyThrough. */
  #applier: BatchApplier | undefined
  readonly #locks = new Map<string, Held>()
  #counts = new Map<string, number>()
  /** Updates being queued (their content still arriving), per name. */
  readonly #arriving = new Map<string, Set<Promise<void>>>()
  /** The entries of those updates. */
  readonly #keeping = new Set<FileEntry>()
  readonly #now: () => number
  #stopped = false

  constructor(options: UserLocksOptions) {
    this.#o = options
    this.#now = options.now ?? Date.now
  }

  /**
   * The applier that applies a held file's queue once it is let go. The applier is built after
   * the user locks (it asks them what is held), so it is given here, before anything is served.
   */
  applyThrough(applier: BatchApplier): void {
    this.#applier = applier
  }

  /** Load the locks kept in the database (before clients are served). */
  load(): void {
    for (const row of this.#o.store.locks()) this.#locks.set(row.name, { ...row })
    this.#counts = this.#o.store.counts()
    // A lock ends with its file: a local delete here (the scanner's tombstone).
    this.#o.index.onStored((entries) => {
      for (const e of entries) if (e.deleted && e.origin === this.#o.self) this.#ended(e.name)
    })
  }

  /**
   * Once the disk is inventoried, before the peers are followed: remove queued contents no update
   * refers to (a crash between keeping one and its row), and start the time-to-live clocks (a
   * lock that ran out while the server was down ends now).
   */
  async begin(): Promise<void> {
    const removed = await this.#o.content.sweep(this.#o.store.contentFiles())
    if (removed > 0) this.#o.warn(`removed ${removed} queued content file(s) no update refers to`)
    for (const [name, lock] of this.#locks) {
      // An unlock that a crash cut short goes on where it stopped.
      if (lock.unlocking !== null)
        this.unlock(name, lock.owner, false, `${lock.unlocking} (resumed after a restart)`).catch(
          (err: unknown) =>
            this.#o.warn(`the unlock of '${name}' could not resume: ${String(err)}`),
        )
      else this.#arm(name)
    }
  }

  stop(): void {
    this.#stopped = true
    for (const lock of this.#locks.values()) clearTimeout(lock.timer)
  }

  /** Is `name` held still here? (Peers' updates to it are queued.) */
  held(name: string): boolean {
    return this.#locks.has(name)
  }

  list(): UserLock[] {
    return [...this.#locks.values()].map((l) => this.#view(l))
  }

  async lock(name: string, owner: string, ttlSeconds?: number): Promise<UserLock> {
    const existing = this.#locks.get(name)
    if (existing && existing.owner !== owner) throw this.#lockedError(existing)
    // Locked at a peer already: two people holding one file still at two servers would each
    // queue the other's edits, and the second would not know of the first.
    const theirs = this.#o.store.peerLock(name, this.#now())
    if (theirs)
      throw new TandemError(
        'ERR_LOCKED',
        `'${name}' is locked by ${theirs.owner} at ${theirs.peer}`,
      )
    const file = await this.#o.files.resolve(name, { follow: false })
    const found = await probe(file.path)
    if (found.kind === 'dir')
      throw new TandemError('ERR_IS_DIRECTORY', `'${name}' is a folder; lock the files in it`)
    // A file mirrors and queues; a symlink or a FIFO here never does, so a lock would hold nothing.
    if (found.kind !== 'file')
      throw new TandemError('ERR_NOT_FOUND', `no file '${name}' at ${this.#o.self}`)
    // Taken under the name's write lock: a write in progress finishes first, none starts after.
    const release = await this.#o.lockPaths([name])
    let row: Held
    try {
      // Again under the write lock: a peer's delete or rename may have gone first.
      if ((await probe(file.path)).kind !== 'file')
        throw new TandemError('ERR_NOT_FOUND', `no file '${name}' at ${this.#o.self}`)
      const now = this.#locks.get(name)
      if (now && now.owner !== owner) throw this.#lockedError(now)
      if (now?.draining) throw this.#lockedError(now)
      const expires = ttlSeconds === undefined ? null : this.#now() + ttlSeconds * 1000
      row = { name, owner, since: now?.since ?? this.#now(), expires, unlocking: null }
      this.#o.store.put(row)
      if (now) clearTimeout(now.timer)
      this.#locks.set(name, row)
      // Told before the write lock is released: a write waiting for it then sees the lock.
      this.#o.changed()
    } finally {
      release()
    }
    this.#arm(name)
    const ttl = ttlSeconds === undefined ? '' : `for ${ttlSeconds} s`
    this.#o.report({ op: 'lock', name, owner, queued: this.#queued(name), detail: ttl })
    return this.#view(row)
  }

  /**
   * Release a lock: its queued updates are applied in order first (the lock holds meanwhile).
   * `owner` must hold it unless `force`.
   */
  async unlock(name: string, owner: string, force = false, why?: string): Promise<UnlockOutcome> {
    const lock = this.#locks.get(name)
    if (!lock) throw new TandemError('ERR_NOT_FOUND', `'${name}' is not locked at ${this.#o.self}`)
    if (lock.owner !== owner && !force)
      throw new TandemError(
        'ERR_NOT_OWNER',
        `'${name}' is locked by ${lock.owner} at ${this.#o.self}, not by ${owner} (unlock --force releases it)`,
      )
    if (!lock.draining) {
      clearTimeout(lock.timer)
      const forced = lock.owner !== owner
      const reason = why ?? (forced ? `forced by ${owner}` : '')
      lock.unlocking = reason
      this.#o.store.setUnlocking(name, reason || 'unlocked')
      lock.draining = this.#release(lock, forced, reason)
      lock.draining.catch(() => {
        // Stopping: the mark stays, and the unlock resumes at the next start.
        if (this.#stopped) return
        // The queue could not be applied (a full disk…): the lock stays, nothing is lost.
        delete lock.draining
        lock.unlocking = null
        this.#o.store.setUnlocking(name, null)
        if (lock.expires !== null) this.#arm(name, EXPIRE_RETRY_MS)
      })
    }
    return lock.draining
  }

  /**
   * Queue a peer's update to a held file, with its content (kept now: the peer may change the
   * file again before the unlock). A version already waiting (or one after it), from any peer,
   * is not queued again.
   */
  async enqueue(peer: PeerSource, entry: FileEntry): Promise<void> {
    const name = entry.name
    const arriving = this.#arriving.get(name) ?? new Set<Promise<void>>()
    this.#arriving.set(name, arriving)
    const done = this.#keep(peer, entry)
    arriving.add(done)
    try {
      await done
    } finally {
      arriving.delete(done)
      if (arriving.size === 0) this.#arriving.delete(name)
    }
  }

  async #keep(peer: PeerSource, entry: FileEntry): Promise<void> {
    // This version (or one after it) is already waiting, or on its way into the queue, from this
    // peer or relayed by another.
    const waiting = [...this.#o.store.queued(entry.name).map((q) => q.entry), ...this.#keeping]
    if (waiting.some((q) => q.name === entry.name && covers(q, entry))) return
    this.#keeping.add(entry)
    let content: string | null
    try {
      content = await this.#o.content.keep(peer, entry)
    } finally {
      this.#keeping.delete(entry)
    }
    const lock = this.#locks.get(entry.name)
    this.#o.store.enqueue(entry.name, peer.name, entry, content)
    const queued = this.#bump(entry.name, 1)
    this.#o.report({
      op: 'lock-queue',
      name: entry.name,
      owner: lock?.owner ?? '?',
      peer: peer.name,
      queued,
      detail: entry.deleted
        ? 'a deletion'
        : entry.renamedFrom
          ? `a rename from ${entry.renamedFrom}`
          : '',
    })
    this.#o.changed()
  }

  async #release(lock: Held, forced: boolean, why: string): Promise<UnlockOutcome> {
    const { applied, conflicts } = await this.#drain(lock)
    // No await since the queue was found empty: an update arriving now is applied normally.
    this.#o.store.remove(lock.name)
    this.#locks.delete(lock.name)
    const detail = [
      why,
      applied > 0 ? `${applied} queued update${applied === 1 ? '' : 's'} applied` : '',
      conflicts > 0 ? `${conflicts} conflict cop${conflicts === 1 ? 'y' : 'ies'}` : '',
    ]
      .filter(Boolean)
      .join('; ')
    this.#o.report({ op: 'unlock', name: lock.name, owner: lock.owner, queued: 0, detail })
    this.#o.changed()
    return { name: lock.name, owner: lock.owner, forced, applied, conflicts }
  }

  /** Apply the queue in order, including updates that arrive meanwhile, until it is empty. */
  async #drain(lock: Held): Promise<{ applied: number; conflicts: number }> {
    const { store, content, index, self } = this.#o
    let applied = 0
    let conflicts = 0
    for (;;) {
      if (this.#stopped) throw new TandemError('ERR_SHUTTING_DOWN', 'the server is stopping')
      const update = store.first(lock.name)
      if (!update) {
        const arriving = this.#arriving.get(lock.name)
        if (!arriving) return { applied, conflicts }
        await Promise.allSettled(arriving)
        continue
      }
      await this.#o.scan(lock.name)
      const action = plan(index.get(lock.name), update.entry, self)
      const carried = store
        .queued(lock.name)
        .some(
          (later) =>
            later.id !== update.id &&
            compareVectors(later.entry.version, update.entry.version) === 'greater',
        )
      if (action.kind !== 'skip' && (action.kind !== 'conflict' || !carried)) {
        const source: PeerSource = {
          ...content.source(update.peer, update.content, this.#o.peer?.(update.peer)),
          unlocks: lock.name,
          // Counted as done (the plan above can be stale: an edit not indexed yet).
          onReport: (r) => {
            if (r.op === 'sync-conflict') conflicts++
          },
        }
        if (!this.#applier) throw new TandemError('ERR_INTERNAL', 'user locks have no applier')
        await this.#applier.applyBatch(source, [update.entry])
        applied++
      }
      store.dequeue(update.id)
      await content.remove(update.content)
      const queued = this.#bump(lock.name, -1)
      this.#o.report({
        op: 'lock-apply',
        name: lock.name,
        owner: lock.owner,
        peer: update.peer,
        queued,
        detail:
          action.kind === 'conflict' && carried
            ? 'carried by a later update'
            : APPLIED[action.kind],
      })
      this.#o.changed()
    }
  }

  /** The locked file was deleted here: the lock ends with it. */
  #ended(name: string): void {
    const lock = this.#locks.get(name)
    if (!lock || lock.draining) return
    this.unlock(name, lock.owner, false, 'the file was deleted').catch((err: unknown) =>
      this.#o.warn(`the lock on '${name}' could not end with its file: ${String(err)}`),
    )
  }

  /** End the lock when its time runs out (re-armed in steps past setTimeout's range). */
  #arm(name: string, retryMs?: number): void {
    const lock = this.#locks.get(name)
    if (!lock || lock.expires === null || this.#stopped) return
    clearTimeout(lock.timer)
    const wait = retryMs ?? Math.max(0, lock.expires - this.#now())
    lock.timer = setTimeout(
      () => {
        if (lock.expires !== null && lock.expires > this.#now()) return this.#arm(name)
        this.unlock(name, lock.owner, false, 'its time ran out').catch((err: unknown) =>
          this.#o.warn(`the lock on '${name}' expired but its queue waits: ${String(err)}`),
        )
      },
      Math.min(wait, MAX_TIMER_MS),
    )
  }

  #queued(name: string): number {
    return this.#counts.get(name) ?? 0
  }

  #bump(name: string, by: number): number {
    const n = Math.max(0, this.#queued(name) + by)
    if (n === 0) this.#counts.delete(name)
    else this.#counts.set(name, n)
    return n
  }

  #view(l: LockRow): UserLock {
    return {
      name: l.name,
      server: this.#o.self,
      owner: l.owner,
      since: l.since,
      expiresAt: l.expires,
      queued: this.#queued(l.name),
    }
  }

  #lockedError(lock: LockRow): TandemError {
    return new TandemError(
      'ERR_LOCKED',
      `'${lock.name}' is locked by ${lock.owner} at ${this.#o.self}${lock.expires ? ` until ${new Date(lock.expires).toISOString()}` : ''}`,
    )
  }
}

/** Does the queued version `queued` make `entry` pointless (the same version, or one after it)? */
function covers(queued: FileEntry, entry: FileEntry): boolean {
  const order = compareVectors(queued.version, entry.version)
  return order === 'equal' || order === 'greater'
}
