/**
 * The applier (the "puller"): performs what the planner decided for a peer's entries. Content is
 * taken from a local file with the same SHA-256 when there is one, else fetched from the peer;
 * either way it goes to a temp file that is fsynced and checked against the hash, then renamed
 * into place under the same per-path write locks as client operations (taken in the main thread),
 * after checking that the disk still looks as indexed. If it does not (a local change not scanned
 * yet), the name is scanned first and the entry planned again: a local edit is never overwritten
 * unseen, it becomes the other side of a conflict.
 *
 * One entry that cannot be applied (a file/folder clash it cannot resolve, no space, a permission
 * error, a name this file system refuses) is set aside with its reason (set-aside.ts) and the rest
 * of the batch goes on; only a failure of the peer or of syncing as a whole fails the batch.
 *
 * Partial replication (--replicas, `placement`): a version's content is taken only where
 * placement wants it, or where this server held the version it replaces; elsewhere the entry is
 * recorded without a fingerprint ("known here, held elsewhere"), and deletes, renames and
 * conflicts of files held elsewhere change the index only. The replication driver adds and
 * removes copies through `takeCopy` and `dropCopy`, under the same locks and checks.
 */
import { TandemError } from '../../protocol/errors.js'
import type { FileEntry, LocalEntry } from '../index/entry.js'
import type { FileIndex } from '../index/file-index.js'
import type { FileStore } from '../storage/file-store.js'
import { fingerprintOf, probe } from '../watch/disk-probe.js'
import { conflictCopyId } from '../watch/findings.js'
import type { Scanner } from '../watch/scanner.js'
import type { BusyNames } from './busy-names.js'
import type { BatchApplier, HeldFiles } from './held-files.js'
import { Superseded } from './content-client.js'
import { contentFor } from './content-source.js'
import { Stale, expectDisk } from './disk-check.js'
import { moveInto } from './move-into.js'
import { concernsOneEntry, isSkippable, isSuperseded } from './entry-failures.js'
import { namesOf, plan, planBatch, remotesOf, type Action } from './planner.js'
import type { PeerSource, SetAsideSink, SyncReport } from './peer-source.js'
import { ByteWindow } from './byte-window.js'
import { FreshCheck } from './fresh-check.js'
import { GroupCommit } from './group-commit.js'
import { ensureRoom } from './room.js'
import { TypeClash } from './type-clash.js'

// Actions in flight at once, and the content they may carry together: a burst of small files is
// fetched (pipelined) and published in groups of dozens, a big file goes more or less alone.
const CONCURRENCY = 64
const WINDOW_BYTES = 8 * 1024 * 1024
const ATTEMPTS = 3

export type { PeerSource, SetAsideSink, SyncReport } from './peer-source.js'

export interface ApplierOptions {
  self: string
  index: FileIndex
  store: FileStore
  scanner: Scanner
  /** Names being changed here; the scanner leaves them alone until re-hinted. */
  busy: BusyNames
  /** Write locks from the main thread's lock table (the ones client operations use). */
  lock(names: readonly string[]): Promise<() => void>
  /** Is the data directory still there? (When not, the caller refuses to sync.) */
  rootPresent(): Promise<boolean>
  report(report: SyncReport): void
  warn(message: string): void
  /** User locks: a held name's updates are queued (with their content) instead of applied. */
  held?: HeldFiles
  /** Told of each batch's writes: many of them pause the watcher (see BulkMode). */
  bulk?: {
    begin(writes: number): void
    end(): void
    readonly active: boolean
    /** While active, the watcher holds hints: this one is given with them on resume. */
    hint(name: string): void
  }
  /** Entries that cannot be applied are set aside here (without it, they fail the batch). */
  setAside?: SetAsideSink
  /**
   * Partial replication: whether this server should hold a version (its desired holders include
   * it). Absent: every server holds every file (full mirroring).
   */
  placement?: { wants(entry: FileEntry): boolean }
  /**
   * A connected member to fetch from, by name (for content the delivering peer does not hold:
   * it only passed the entry on). Undefined when it is not up.
   */
  sourceFor?(peer: string): PeerSource | undefined
}

export class Applier implements BatchApplier {
  readonly #o: ApplierOptions
  readonly #clash: TypeClash
  readonly #commit: GroupCommit
  /** The data directory's presence, checked before every action (coalesced: fresh-check.ts). */
  readonly #root: FreshCheck<boolean>
  #stopped = false

  constructor(options: ApplierOptions) {
    this.#o = options
    this.#commit = new GroupCommit({ lock: options.lock, index: options.index })
    this.#root = new FreshCheck(() => options.rootPresent())
    this.#clash = new TypeClash({
      self: options.self,
      index: options.index,
      store: options.store,
      scanNow: (names) => options.scanner.scanNow(names),
      hint: (name) => options.scanner.hint(name),
      ownState: (name, identity) => options.scanner.ownState(name, identity),
      held: (name) => options.held?.held(name) ?? false,
      locked: (peer, names, fn) => this.#busyLocked(peer, names, fn),
    })
  }

  /**
   * Apply a batch of a peer's entries. An entry that cannot be applied is set aside (when there
   * is somewhere to set it); the batch throws only when the peer or syncing as a whole fails.
   */
  async applyBatch(peer: PeerSource, remotes: readonly FileEntry[]): Promise<void> {
    const { index, self } = this.#o
    const aside = new Set<string>()
    const free = await this.#queueHeld(peer, remotes, aside)
    const actions = planBatch(free, (name) => index.get(name), self)
    // Only what changes this disk counts (not a file recorded here but held elsewhere).
    const writes = actions.filter(
      (a) =>
        a.kind !== 'skip' &&
        a.kind !== 'record' &&
        a.kind !== 'keep' &&
        (a.kind !== 'take' || this.#takesContent(a.entry, index.get(a.entry.name))),
    )
    this.#o.bulk?.begin(writes.length)
    try {
      await this.#run(peer, actions, aside)
    } finally {
      this.#o.bulk?.end()
    }
    // Everything else in the batch was applied, queued or found superseded: nothing waits for it.
    const sink = this.#sink(peer)
    for (const remote of remotes) if (!aside.has(remote.name)) sink?.cleared(peer, remote)
  }

  /** Where this source's entries are set aside: a user lock's queue has its own (it is kept). */
  #sink(peer: PeerSource): SetAsideSink | undefined {
    return peer.unlocks === undefined ? this.#o.setAside : undefined
  }

  async #run(peer: PeerSource, actions: Action[], aside: Set<string>): Promise<void> {
    let next = 0
    let failure: unknown
    const sink = this.#sink(peer)
    const window = new ByteWindow(WINDOW_BYTES)
    const worker = async (): Promise<void> => {
      while (next < actions.length && failure === undefined) {
        const action = actions[next++]!
        const bytes = contentBytes(action)
        await window.take(bytes)
        try {
          await this.#withRetries(peer, action)
        } catch (err) {
          if (!sink || !concernsOneEntry(err) || this.#stopped) failure ??= err
          else
            for (const remote of remotesOf(action)) {
              aside.add(remote.name)
              sink.add(peer, remote, err)
            }
        } finally {
          window.give(bytes)
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, actions.length) }, worker))
    if (failure !== undefined) throw failure
  }

  /**
   * Perform an action; when the disk changed under it, scan and plan again (both names of a
   * rename). One entry that cannot be applied here is reported and passed over: it must not hold
   * back the rest of the peer's stream. Failures of the peer or of the whole disk are thrown.
   */
  async #withRetries(peer: PeerSource, action: Action, attempt = 1): Promise<void> {
    try {
      return await this.#perform(peer, action)
    } catch (err) {
      if (isSuperseded(err)) return // changed there since: a newer entry is on its way
      const what = namesOf(action).join("', '")
      if (isSkippable(err) && !this.#sink(peer))
        return this.#o.warn(`not applied from ${peer.name}: ${String((err as Error).message)}`)
      if (err instanceof Held) {
        // Locked by a user since it was planned: queue what is held now, plan the rest again.
        const remotes = remotesOf(action)
        const free = await this.#queueHeld(peer, remotes)
        // Nothing of its own was queued: another name it needs is locked (a conflict copy, a
        // file in a folder's way). Planning it again would meet the same lock.
        if (free.length === remotes.length)
          throw new TandemError('ERR_LOCKED', `'${what}' needs a name a user locked here`)
        const again = planBatch(free, (name) => this.#o.index.get(name), this.#o.self)
        for (const next of again) await this.#withRetries(peer, next, attempt)
        return
      }
      if (!(err instanceof Stale)) throw err
      if (attempt >= ATTEMPTS && this.#sink(peer))
        throw new TandemError('ERR_BUSY', `'${what}' keeps changing here; tried again later`)
      if (attempt >= ATTEMPTS)
        return this.#o.warn(
          `not applied from ${peer.name}: '${what}' keeps changing here (its own version will be sent)`,
        )
    }
    await this.#o.scanner.scanNow(namesOf(action))
    const again = planBatch(remotesOf(action), (name) => this.#o.index.get(name), this.#o.self)
    for (const next of again) await this.#withRetries(peer, next, attempt + 1)
  }

  /**
   * Hand the entries of user-locked names to their queue, in order; the others are returned. An
   * entry that cannot be queued is set aside (when `aside` is given), else fails the call.
   */
  async #queueHeld(
    peer: PeerSource,
    remotes: readonly FileEntry[],
    aside?: Set<string>,
  ): Promise<FileEntry[]> {
    const locks = this.#o.held
    if (!locks) return [...remotes]
    const free: FileEntry[] = []
    for (const remote of remotes) {
      if (remote.name === peer.unlocks || !locks.held(remote.name)) {
        free.push(remote)
        continue
      }
      // No copy here to hold still, and none wanted: recorded as for any file held elsewhere
      // (queueing would fetch its content).
      const placement = this.#o.placement
      const local = this.#o.index.get(remote.name)
      if (placement && !heldHere(local) && (remote.deleted || !placement.wants(remote))) {
        free.push(remote)
        continue
      }
      // What changes nothing on disk passes: an echo of our own version (skip), the same
      // content (record). Queued, it would wait as an "update", and a peer that merged the
      // owner's edit would see every next edit as a conflict again.
      const kind = plan(this.#o.index.get(remote.name), remote, this.#o.self).kind
      if (kind === 'skip' || kind === 'record') {
        free.push(remote)
        continue
      }
      try {
        await locks.enqueue(this.#orHolders(peer, remote), remote)
      } catch (err) {
        // Changed there again before its content could be kept: the newer version is on its way
        // and is queued in its turn. Other failures of this entry set it aside (no space for
        // its content, say): the rest of the batch goes on.
        if (isSuperseded(err)) continue
        const sink = this.#sink(peer)
        if (!aside || !sink || !concernsOneEntry(err) || this.#stopped) throw err
        aside.add(remote.name)
        sink.add(peer, remote, err)
      }
    }
    return free
  }

  /** No more actions (the server stops, or refuses to sync): batches in flight end at once. */
  stop(): void {
    this.#stopped = true
  }

  async #perform(peer: PeerSource, action: Action): Promise<void> {
    const { index } = this.#o
    if (this.#stopped) throw new TandemError('ERR_SYNC_REFUSED', 'syncing has stopped')
    // Writing into a data directory that vanished would create it again (temp files make their
    // folders), and the next start would then see a directory holding files and go on.
    if (action.kind !== 'skip' && !(await this.#root.get()))
      throw new TandemError('ERR_SYNC_REFUSED', 'the data directory has vanished')
    switch (action.kind) {
      case 'skip':
        return
      case 'record':
      case 'keep': {
        const local = index.get(action.entry.name)
        index.put([
          {
            entry: action.entry,
            fingerprint: action.entry.deleted ? null : (local?.fingerprint ?? null),
          },
        ])
        return
      }
      case 'take': {
        const local = index.get(action.entry.name)
        if (!this.#takesContent(action.entry, local))
          return this.#busy([action.entry.name], () => this.#recordOnly([action.entry], [local]))
        return this.#busy([action.entry.name], () => this.#take(peer, action.entry))
      }
      case 'delete': {
        const local = index.get(action.entry.name)
        if (heldElsewhere(local))
          return this.#busy([action.entry.name], () => this.#recordOnly([action.entry], [local]))
        return this.#busy([action.entry.name], () => this.#delete(peer, action.entry))
      }
      case 'rename': {
        const [from, to] = [index.get(action.from.name), index.get(action.to.name)]
        if (heldElsewhere(from))
          return this.#busy([action.from.name, action.to.name], () =>
            this.#recordOnly([action.to, action.from], [to, from]),
          )
        return this.#busy([action.from.name, action.to.name], () =>
          this.#rename(peer, action.from, action.to),
        )
      }
      case 'conflict':
        // The local side is held elsewhere: nothing here to keep as the copy, so nothing is
        // decided here. Its holders resolve the conflict (they keep the loser as its copy) and
        // their merged entry, and the copy's, reach this server as any other change. Recording
        // the merged winner here instead would let it reach the loser's holders before the
        // copy exists (two holders cut apart, this server linked to both), and they would
        // replace the losing version by the winner: the one copy of it gone.
        if (heldElsewhere(index.get(action.entry.name))) return
        return this.#busy([action.entry.name, action.copyName], () => this.#conflict(peer, action))
    }
  }

  /**
   * Whether this server takes `remote`'s content: always in full mirroring; with placement, when
   * it wants that version or held the version it replaces (the replication driver moves it later).
   */
  #takesContent(remote: FileEntry, local: LocalEntry | undefined): boolean {
    const placement = this.#o.placement
    if (!placement) return true
    return heldHere(local) || placement.wants(remote)
  }

  /**
   * Store entries of files not held here, without a fingerprint: the disk is not touched. Under
   * the names' write locks, the index must still be as planned and no file be at those names (one
   * not indexed yet is scanned first, and then is a version of its own: nothing is hidden). User
   * locks do not hold these back: there is no copy here to hold still.
   */
  async #recordOnly(
    entries: readonly FileEntry[],
    planned: readonly (LocalEntry | undefined)[],
  ): Promise<void> {
    const { index, store } = this.#o
    const names = entries.map((e) => e.name)
    const files = await Promise.all(names.map((name) => store.resolve(name, { follow: false })))
    const release = await this.#o.lock(names)
    try {
      names.forEach((name, i) => this.#expectIndex(name, planned[i]))
      for (const file of files)
        if ((await probe(file.path)).kind === 'file') throw new Stale('a file here not indexed yet')
      index.put(entries.map((entry) => ({ entry, fingerprint: null })))
    } finally {
      release()
    }
    for (const name of names) this.#o.scanner.settled(name)
  }

  /** The members that announced they hold this content, connected now, to fetch it from. */
  #holders(entry: FileEntry): () => PeerSource[] {
    return () => {
      const sourceFor = this.#o.sourceFor
      if (!sourceFor || !entry.hash) return []
      return this.#o.index
        .holdersOf(entry.name, entry.hash)
        .map((peer) => sourceFor(peer))
        .filter((source): source is PeerSource => source !== undefined)
    }
  }

  /**
   * `peer`, or when it has no copy of `entry`'s content (it only passed the entry on), each
   * connected member that announced holding it: for a user lock's queue, which keeps the content.
   * Only a "no copy" answer moves on to the next (nothing was written into the temp file then).
   */
  #orHolders(peer: PeerSource, entry: FileEntry): PeerSource {
    if (!this.#o.placement) return peer
    const holders = this.#holders(entry)
    return {
      name: peer.name,
      ...(peer.unlocks === undefined ? {} : { unlocks: peer.unlocks }),
      ...(peer.generation === undefined ? {} : { generation: peer.generation }),
      ...(peer.onReport ? { onReport: (r: SyncReport) => peer.onReport?.(r) } : {}),
      fetch: async (name, hash, size, temp) => {
        try {
          return await peer.fetch(name, hash, size, temp)
        } catch (err) {
          if (!(err instanceof Superseded)) throw err
          for (const other of holders()) {
            if (other.name === peer.name) continue
            try {
              return await other.fetch(name, hash, size, temp)
            } catch (next) {
              if (!(next instanceof Superseded)) throw next
            }
          }
          throw err
        }
      },
    }
  }

  /**
   * Copy the index's current version of `name` here from `source` (or another member holding it),
   * for the replication driver: the same checks as any take (temp file, SHA-256, fsync, the disk
   * and the index unchanged under the write lock), then the same version stored again with its
   * fingerprint, so the peers learn that this server holds it. 'stale': nothing to take (deleted,
   * changed, held here already, no holder has that content now).
   */
  async takeCopy(source: PeerSource, name: string): Promise<'taken' | 'stale'> {
    const { index, store } = this.#o
    if (this.#stopped) throw new TandemError('ERR_SYNC_REFUSED', 'syncing has stopped')
    const local = index.get(name)
    if (!local || local.deleted || !local.hash || local.fingerprint) return 'stale'
    if (!(await this.#root.get()))
      throw new TandemError('ERR_SYNC_REFUSED', 'the data directory has vanished')
    let result: 'taken' | 'stale' = 'stale'
    await this.#busy([name], async () => {
      try {
        await ensureRoom(store.root, local.size, name)
        const file = await store.resolve(name, { follow: false })
        if ((await probe(file.path)).kind !== 'absent') return // the scanner looks at what is
        const temp = await contentFor(index, store, source, local, file, this.#holders(local))
        try {
          const release = await this.#o.lock([name])
          try {
            this.#expectIndex(name, local)
            await expectDisk(file.path, local)
            await temp.adoptModeOf(file.path, file.mode)
            await temp.publish(file.path)
            index.restore(local, temp.identity ?? (await fingerprintOf(file.path)))
          } finally {
            release()
          }
        } finally {
          await temp.discard()
        }
        this.#o.scanner.settled(name)
        result = 'taken'
      } catch (err) {
        if (err instanceof Stale || isSuperseded(err)) return
        throw err
      }
    })
    return result
  }

  /**
   * Remove this server's copy of `name` (surplus: the replication driver checked that enough
   * other members hold it). Under the write lock, the index still as it was and the disk still as
   * indexed; never a user-locked file. The index is told first: a crash between the two leaves a
   * file the index says is held elsewhere, which the scanner finds again as held (same content),
   * where the other order would leave a held file missing, recorded as deleted everywhere. That
   * commit is made durable before the unlink (restoreDurably), so a power cut keeps the order too.
   * 'stale': not held here, locked, or changed since.
   */
  async dropCopy(name: string): Promise<'dropped' | 'stale'> {
    const { index, store } = this.#o
    if (this.#stopped) throw new TandemError('ERR_SYNC_REFUSED', 'syncing has stopped')
    const local = index.get(name)
    const locked = (): boolean => this.#o.held?.held(name) ?? false
    if (!local || local.deleted || !local.fingerprint || locked()) return 'stale'
    let result: 'dropped' | 'stale' = 'stale'
    await this.#busy([name], async () => {
      const file = await store.resolve(name, { follow: false })
      const release = await this.#o.lock([name])
      try {
        if (locked() || index.get(name)?.seq !== local.seq) return
        try {
          await expectDisk(file.path, local)
        } catch (err) {
          if (err instanceof Stale) return
          throw err
        }
        index.restoreDurably(local, null)
        await store.delete(file)
        result = 'dropped'
      } finally {
        release()
      }
      this.#o.scanner.settled(name)
    })
    return result
  }

  async #busy(names: string[], fn: () => Promise<void>): Promise<void> {
    const { busy, scanner } = this.#o
    for (const name of names) busy.add(name)
    try {
      await fn()
    } finally {
      // Anything that changed meanwhile is seen now; in bulk mode once the watcher resumes (the
      // scanner passed the name over while busy, and an event from before the pause is not held).
      const bulk = this.#o.bulk?.active ? this.#o.bulk : undefined
      for (const name of names) {
        busy.delete(name)
        if (bulk) bulk.hint(name)
        else scanner.hint(name)
      }
    }
  }

  async #take(peer: PeerSource, entry: FileEntry): Promise<void> {
    await ensureRoom(this.#o.store.root, entry.size, entry.name)
    await this.#makeWay(peer, entry.name)
    const local = this.#o.index.get(entry.name)
    const file = await this.#o.store.resolve(entry.name, { follow: false })
    if ((await probe(file.path)).kind === 'dir') {
      const copyName = await this.#clash.keepBesideFolder(peer, entry)
      return this.#report(peer, {
        op: 'sync-conflict',
        name: entry.name,
        to: copyName,
        peer: peer.name,
        detail: 'a folder of that name is here; the file is kept as the copy',
      })
    }
    let temp
    try {
      temp = await contentFor(this.#o.index, this.#o.store, peer, entry, file, this.#holders(entry))
    } catch (err) {
      // The peer only passed the entry on (it does not hold it) and no member holding it answers
      // now: the entry is still recorded (every member lists every file), without content; the
      // replication driver fetches it once a holder is back.
      if (err instanceof Superseded && this.#o.placement && entry.held === false)
        return this.#recordOnly([entry], [local])
      throw err
    }
    try {
      // Published with the other takes ready now: one lock request, one directory fsync per
      // folder and one index transaction for the group (group-commit.ts).
      await this.#commit.publish({
        name: entry.name,
        target: file.path,
        temp,
        entry,
        check: async () => {
          this.#notHeld(peer, [entry.name])
          this.#expectIndex(entry.name, local)
          await expectDisk(file.path, local)
          // No file was indexed here, and the disk agrees: no mode to keep (and no stat for it).
          await temp.adoptModeOf(file.path, heldHere(local) ? file.mode : null)
        },
      })
    } finally {
      await temp.discard()
    }
    this.#o.scanner.settled(entry.name)
    this.#report(peer, { op: 'sync-pull', name: entry.name, size: entry.size, peer: peer.name })
  }

  async #delete(peer: PeerSource, entry: FileEntry): Promise<void> {
    const local = this.#o.index.get(entry.name)
    if ((await this.#clash.fileAbove(entry.name)) !== null) return this.#record(entry, local)
    const file = await this.#o.store.resolve(entry.name, { follow: false })
    // A folder here at the deleted file's name: no file to delete (the folder wins).
    if ((await probe(file.path)).kind === 'dir') return this.#record(entry, local)
    await this.#locked(peer, [entry.name], async () => {
      this.#expectIndex(entry.name, local)
      await expectDisk(file.path, local)
      await this.#o.store.delete(file)
    })
    this.#o.index.put([{ entry, fingerprint: null }])
    this.#o.scanner.settled(entry.name)
    this.#report(peer, { op: 'sync-delete', name: entry.name, peer: peer.name })
  }

  async #rename(peer: PeerSource, from: FileEntry, to: FileEntry): Promise<void> {
    const { index, store } = this.#o
    await this.#makeWay(peer, to.name)
    const [localFrom, localTo] = [index.get(from.name), index.get(to.name)]
    const src = await store.resolve(from.name, { follow: false })
    const dst = await store.resolve(to.name, { follow: false })
    // The fingerprint is taken under the lock: a client commit right after cannot slip into it.
    const fingerprint = await this.#locked(peer, [from.name, to.name], async () => {
      this.#expectIndex(from.name, localFrom)
      this.#expectIndex(to.name, localTo)
      await expectDisk(src.path, localFrom)
      await expectDisk(dst.path, localTo)
      await moveInto(src.path, dst.path)
      await store.pruneEmptyParents(src.path)
      return fingerprintOf(dst.path)
    })
    index.put([
      { entry: to, fingerprint },
      { entry: from, fingerprint: null },
    ])
    this.#o.scanner.settled(from.name)
    this.#o.scanner.settled(to.name)
    this.#report(peer, { op: 'sync-rename', name: from.name, to: to.name, peer: peer.name })
  }

  /** Keep the loser beside the winner as a conflict copy; the scanner then indexes the copy. */
  async #conflict(peer: PeerSource, a: Extract<Action, { kind: 'conflict' }>): Promise<void> {
    const { index, store } = this.#o
    const local = index.get(a.entry.name)
    const file = await store.resolve(a.entry.name, { follow: false })
    const copy = await store.resolve(a.copyName, { follow: false })
    const localCopy = index.get(a.copyName)
    await ensureRoom(store.root, a.remote.size, a.remote.name)
    // The content that travels is theirs: as the copy when we win, as the file when they win.
    const target = a.winner === 'local' ? copy : file
    const temp = await contentFor(index, store, peer, a.remote, target, this.#holders(a.remote))
    let fingerprint
    try {
      fingerprint = await this.#locked(peer, [a.entry.name, a.copyName], async () => {
        this.#expectIndex(a.entry.name, local)
        await expectDisk(file.path, local)
        await expectDisk(copy.path, localCopy)
        if (a.winner === 'local') await temp.publish(copy.path)
        else {
          await moveInto(file.path, copy.path)
          await temp.publish(file.path)
        }
        // The copy is indexed by the scanner, as a new file: it is this server's work, though.
        const loser = a.winner === 'local' ? a.remote : (local ?? a.remote)
        await this.#o.scanner.ownState(a.copyName, conflictCopyId(loser, a.copyName))
        return fingerprintOf(file.path)
      })
    } finally {
      await temp.discard()
    }
    index.put([{ entry: a.entry, fingerprint }])
    this.#o.scanner.settled(a.entry.name)
    this.#o.scanner.hint(a.copyName)
    this.#report(peer, { op: 'sync-conflict', name: a.entry.name, to: a.copyName, peer: peer.name })
  }

  #report(peer: PeerSource, report: SyncReport): void {
    this.#o.report(report)
    peer.onReport?.(report)
  }

  /** A file here where `name` needs a folder: it goes to its conflict copy (type-clash.ts). */
  async #makeWay(peer: PeerSource, name: string): Promise<void> {
    const blocker = await this.#clash.fileAbove(name)
    if (blocker === null) return
    const copyName = await this.#clash.moveAside(peer, blocker)
    this.#report(peer, {
      op: 'sync-conflict',
      name: blocker,
      to: copyName,
      peer: peer.name,
      detail: `a folder of that name arrived ('${name}'); the file is kept as the copy`,
    })
  }

  async #busyLocked<T>(
    peer: PeerSource,
    names: readonly string[],
    fn: () => Promise<T>,
  ): Promise<T> {
    let result: T | undefined
    await this.#busy([...names], async () => {
      result = await this.#locked(peer, names, fn)
    })
    return result as T
  }

  /**
   * Under the lock: the index still holds what was planned against. Another batch (a retry of a
   * set-aside entry, a user lock's queue, the link's next batch) may have stored a newer version
   * meanwhile, and writing the older one over it would bring back what it replaced.
   */
  #expectIndex(name: string, planned: LocalEntry | undefined): void {
    if (this.#o.index.get(name)?.seq !== planned?.seq) throw new Stale('indexed meanwhile')
  }

  /** Only store the peer's entry: the disk already agrees (a tombstone where no file is). */
  #record(entry: FileEntry, local: LocalEntry | undefined): void {
    if (local && !local.deleted && local.fingerprint) {
      // The index still thinks a file is here: let the scanner see what is.
      this.#o.scanner.hint(entry.name)
    }
    this.#o.index.put([{ entry, fingerprint: null }])
  }

  /** Run `fn` under the names' write locks, unless a user locked one of them meanwhile. */
  async #locked<T>(peer: PeerSource, names: readonly string[], fn: () => Promise<T>): Promise<T> {
    const release = await this.#o.lock(names)
    try {
      this.#notHeld(peer, names)
      return await fn()
    } finally {
      release()
    }
  }

  /** Under the names' write locks: none of them was locked by a user meanwhile (else Held). */
  #notHeld(peer: PeerSource, names: readonly string[]): void {
    const locks = this.#o.held
    if (locks && names.some((name) => name !== peer.unlocks && locks.held(name))) throw new Held()
  }
}

/** The content an action brings here (what the byte window counts). */
function contentBytes(action: Action): number {
  if (action.kind === 'take') return action.entry.deleted ? 0 : action.entry.size
  if (action.kind === 'conflict') return action.remote.size
  return 0
}

/** A name became user-locked between planning and writing: its entry is queued instead. */
class Held extends Error {}

/** A live file known here whose content is on other members (no fingerprint: not on this disk). */
function heldElsewhere(local: LocalEntry | undefined): boolean {
  return local !== undefined && !local.deleted && !local.fingerprint
}

/** A live file whose content is on this disk. */
function heldHere(local: LocalEntry | undefined): boolean {
  return local !== undefined && !local.deleted && local.fingerprint !== null
}
