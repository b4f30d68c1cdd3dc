/**
 * The scanner: turns "something may have changed at these names" (watcher events, the periodic
 * rescan, the startup inventory) into new index entries. It never trusts an event: it looks at
 * the disk, compares with the index's fingerprint, and hashes only what changed.
 *
 * A file still being written is not indexed half-written: its ctime must be older than the
 * settle time before it is read (a write during the read would then change ctime, which the
 * stat after the read catches), and a file that keeps changing waits longer each time.
 * A name that vanished while a new name appeared with the same content is recorded as a rename.
 *
 * A client's folder delete or rename is told beforehand (`expect`): its vanished names are then
 * recorded as deletions at once, past the deletion guard (a client's `rm -r` is not a vanished
 * data directory), and each old name is paired with its new one as a rename whatever order the
 * watcher's events come in. A rename found by inode passes the guard too: nothing was lost.
 *
 * What it records that the server did not write itself (own-writes.ts: client operations tell
 * what they left, the applier tells what it wrote) is a change by another program: reported as a
 * `local-change`, after waiting out any client write still under way on those names (its notice
 * is then in), so that the server's own work is never reported as one.
 */
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { setImmediate as nextTurn } from 'node:timers/promises'
import type { EntryRequest } from '../../protocol/index.js'
import type { Fingerprint, LocalEntry } from '../index/entry.js'
import type { TreeChange } from '../index/tree-change.js'
import { sameFingerprint } from '../index/entry.js'
import { storedAgain, type FileIndex, type NewEntry } from '../index/file-index.js'
import { DeletionGuard, type Emptied } from './deletion-guard.js'
import { fingerprintOf, hashFile, isGone, probe, type Probe } from './disk-probe.js'
import {
  identityOf,
  movedVersion,
  newFileId,
  newVersion,
  tombstone,
  type FileIdentityOf,
  type Finding,
  type LocalChange,
} from './findings.js'
import { conflictName } from '../index/conflict-name.js'
import { OwnWrites } from './own-writes.js'
import { TreeWalk, directoryExists } from './tree-walk.js'

const BATCH_DELAY_MS = 3 // events of one burst are scanned together
const SETTLE_MS = 10 // over the kernel's timestamp granularity (1–10 ms)
const MAX_SETTLE_MS = 1_500
const CONCURRENCY = 8
const GONE_GRACE_MS = 15
const NEARLY_EMPTY_MIN = 20 // indexed files from which "nearly empty" is judged
const NEARLY_EMPTY_SHARE = 0.1 // fewer than this share of them left on disk
const MAX_KNOWN = 10_000 // hashes told by sessions, waiting for the scanner
const EXPECT_MS = 60_000 // how long a client's told folder change waits to be seen
const REQUEST_WAIT_MS = 60_000 // how long a told request waits for its write's notice
const MAX_REQUESTS = 10_000 // names with a told request waiting for its notice
const MAX_LOOKED = 100_000 // names whose last look is remembered (the latest ones)
const WAIT_FOR_TOLD_BYTES = 1024 * 1024 // from this size, a client write under way is waited out

export interface ScannerOptions {
  root: string
  index: FileIndex
  self: string
  /** Names the applier is changing right now: not scanned (the applier re-hints them after). */
  busy: { has(name: string): boolean }
  /** The data directory vanished or was emptied (at runtime): stop syncing, say why. */
  refuse(reason: string): void
  warn(message: string): void
  /**
   * Wait out the server's writes in progress on these names (read locks from the main thread's
   * table, where client operations take theirs); resolves to the locks' release.
   */
  confirm?(names: readonly string[]): Promise<() => void>
  /** A change another program made in the folder (cp, an editor, rm), found and confirmed. */
  localChange?(change: LocalChange): void
  /**
   * `name` was found to be a folder, about to be read (`present`), or found to be something else
   * (a file, nothing): the watcher watches folders as the scanner meets them.
   */
  folder?(name: string, present: boolean): void
  now?: () => number
}

/** What one commit recorded that no notice explained yet: its states, to check again later. */
interface Unexplained {
  change: LocalChange
  states: { name: string; fp: Fingerprint | null }[]
}

export class Scanner {
  readonly #o: ScannerOptions
  readonly #now: () => number
  #pending = new Set<string>()
  #timer: NodeJS.Timeout | undefined
  #running: Promise<void> = Promise.resolve()
  readonly #unstable = new Map<string, number>()
  readonly #retry = new Map<string, NodeJS.Timeout>()
  readonly #goneAt = new Map<string, number>()
  readonly #failing = new Set<string>()
  readonly #known = new Map<string, { hash: string; fp: Fingerprint }>()
  /** Conflict copies the applier wrote, and the identity each gets when indexed. */
  readonly #copyIds = new Map<string, FileIdentityOf>()
  /** Old names a client is deleting or renaming (to `to`), until when that is expected. */
  readonly #expected = new Map<string, { to: string | undefined; until: number }>()
  #stopped = false
  #hashReads = 0
  /** performance.now() of the latest look at each name (see hint's `since`). */
  readonly #looked = new Map<string, number>()
  /** The server's own writes, not to be reported as local changes. */
  readonly #own = new OwnWrites()
  /** Client requests (rids) told before their write's notice, by name. */
  readonly #requests = new Map<string, { request: EntryRequest; until: number }>()
  /** This server's requests not in the index at start (a crash before their entry), by name. */
  #recovered = new Map<string, EntryRequest>()
  /** True during the first inventory of an empty index: every file is "new" then, none changed. */
  #quiet = false

  readonly #guard: DeletionGuard

  readonly #tree: TreeWalk

  constructor(options: ScannerOptions) {
    this.#o = options
    this.#tree = new TreeWalk(options.root, options.warn, (name) => options.folder?.(name, true))
    this.#now = options.now ?? Date.now
    this.#guard = new DeletionGuard({
      emptied: () => this.emptied(),
      refuse: (reason) => options.refuse(reason),
      release: (names) => {
        for (const name of names) this.hint(name)
      },
    })
  }

  /**
   * Why the directory must not be synced: it vanished, or it is empty while the index lists files
   * held here. Only held files count: a member that holds none of the cluster's files (partial
   * replication, --replicas) has an empty directory by right.
   */
  async emptied(): Promise<Emptied | null> {
    const { root, index } = this.#o
    const known = index.heldCount()
    if (!(await directoryExists(root)))
      return { vanished: true, reason: `the data directory ${root} has vanished` }
    if (known === 0) return null
    const onDisk = (await this.walk('')).length
    // Nearly empty counts too: an `rm -rf` that failed on a folder written to meanwhile, a disk
    // half restored. (A few files kept of many is no one's normal edit.)
    if (onDisk === 0 || (known >= NEARLY_EMPTY_MIN && onDisk < known * NEARLY_EMPTY_SHARE))
      return {
        vanished: false,
        reason: `the data directory ${root} holds ${onDisk} file(s), but the index lists ${known} held here`,
      }
    return null
  }

  /** Something may have changed at `name` (a file or a folder). */
  hint(name: string, since?: number): void {
    if (this.#stopped) return
    // A change seen at `since` (performance.now()) that a later look at this file has covered.
    if (since !== undefined && (this.#looked.get(name) ?? -Infinity) > since) return
    this.#pending.add(name)
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined
      const names = [...this.#pending]
      this.#pending.clear()
      this.#running = this.#running.then(() => this.#scanSafely(names))
    }, BATCH_DELAY_MS)
  }

  /** Scan names now (after whatever batch is running); resolves when their changes are stored. */
  scanNow(names: readonly string[]): Promise<void> {
    this.#running = this.#running.then(() => this.#scanSafely(names))
    return this.#running
  }

  /**
   * Scan `name` until the index agrees with the disk (a file written a moment ago waits for its
   * ctime to settle before it is read), or `timeoutMs` passes. For when a decision depends on the
   * latest local version: a user lock's queue applied against its owner's last edit.
   */
  async settle(name: string, timeoutMs = 3_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    const full = path.join(this.#o.root, ...name.split('/'))
    const agrees = async (): Promise<boolean> => {
      const entry = this.#o.index.get(name)
      const known = entry && !entry.deleted ? entry.fingerprint : null
      return sameFingerprint(await fingerprintOf(full), known)
    }
    for (let wait = 5; !(await agrees()); wait = Math.min(wait * 2, 100)) {
      await this.scanNow([name])
      if ((await agrees()) || Date.now() >= deadline) return
      await new Promise((resolve) => setTimeout(resolve, wait))
    }
  }

  /**
   * This server's latest requests, told by the main thread at start: one whose rid the index does
   * not hold was applied, but a crash came before its change was indexed (its notice was lost
   * with the process). The startup inventory then finds that change with no notice; its entry
   * gets the request, so the peers still learn the rid. Only during that inventory.
   */
  recover(recent: readonly { request: EntryRequest; names: readonly string[] }[]): void {
    // Newest first: the latest request that wrote a name is the one its change on disk is from.
    for (const { request, names } of recent) {
      if (this.#o.index.requests.get(request.rid)) continue
      for (const name of names) if (!this.#recovered.has(name)) this.#recovered.set(name, request)
    }
  }

  /** Every file on disk and every live name in the index: the startup inventory and rescan. */
  async inventory(): Promise<{ onDisk: number }> {
    const onDisk = await this.walk('')
    const names = new Set(onDisk)
    for (const entry of this.#o.index.live()) names.add(entry.name)
    // A first start indexes what is there: that is no change made by anyone.
    this.#quiet = this.#o.index.seq === 0
    try {
      await this.scanNow([...names])
      await this.#recoveredIndexed()
    } finally {
      this.#quiet = false
      this.#recovered.clear()
    }
    return { onDisk: onDisk.length }
  }

  /**
   * A recovered request whose change the inventory found already indexed, without its rid: the
   * scanner was quicker than the write's notice, and the crash came before that notice got in
   * (#lateRequest never ran). The entry is stored again with the request, as a late notice would
   * have done; else the peers never learn the rid, and a replay at one of them applies it again.
   */
  async #recoveredIndexed(): Promise<void> {
    // Look at the files first: the checks and the store then run in one synchronous pass, so a
    // change indexed while a look-up was awaited is never written over with an older entry. A
    // request that wrote several names (a rename) is stored on each of them, as the scan does.
    const found: { name: string; fp: Fingerprint | null; request: EntryRequest }[] = []
    for (const [name, request] of this.#recovered) {
      if (this.#o.index.requests.get(request.rid) || this.#o.busy.has(name)) continue
      try {
        found.push({ name, fp: await fingerprintOf(this.#full(name)), request })
      } catch {
        // cannot be looked at: reported by the scan already
      }
    }
    const again: NewEntry[] = []
    for (const { name, fp, request } of found) {
      if (this.#o.index.requests.get(request.rid) || this.#o.busy.has(name)) continue
      const entry = this.#lateRequest(name, fp, request)
      if (entry) again.push(entry)
    }
    this.#o.index.put(again)
  }

  /** What a client's operation left at these names (told under its lock): the server's own. */
  wrote(states: readonly { name: string; identity: Fingerprint | null }[]): void {
    const now = this.#now()
    for (const state of states) {
      const told = this.#requests.get(state.name)
      this.#requests.delete(state.name)
      const request = told && told.until >= now ? told.request : undefined
      this.#own.add(state.name, state.identity, request)
    }
  }

  /**
   * A client request (rid) applied, told right before its write's notice (wrote): the entries
   * that notice explains carry it to the peers, which then answer a replay with its result.
   */
  requestDone(request: EntryRequest, names: readonly string[]): void {
    const until = this.#now() + REQUEST_WAIT_MS
    for (const name of names) {
      this.#requests.delete(name)
      this.#requests.set(name, { request, until })
    }
    while (this.#requests.size > MAX_REQUESTS)
      this.#requests.delete(this.#requests.keys().next().value!)
  }

  /**
   * The applier wrote `name` without indexing it (a conflict copy): how it is now is its own.
   * `identity`: the placement identity the new file gets when it is indexed (a conflict copy's is
   * the same on every server that makes it).
   */
  async ownState(name: string, identity?: FileIdentityOf): Promise<void> {
    this.#own.add(name, await fingerprintOf(this.#full(name)))
    if (!identity) return
    this.#copyIds.delete(name)
    this.#copyIds.set(name, identity)
    if (this.#copyIds.size > MAX_KNOWN) this.#copyIds.delete(this.#copyIds.keys().next().value!)
  }

  /** The applier stored `name` as the disk has it: notices about it from before are outdated. */
  settled(name: string): void {
    this.#own.settled(name)
  }

  stop(): void {
    this.#stopped = true
    this.#guard.stop()
    clearTimeout(this.#timer)
    for (const t of this.#retry.values()) clearTimeout(t)
  }

  /** Scan names (folders expand to the files in them and the index names under them). */
  async scan(names: readonly string[]): Promise<void> {
    if (this.#stopped) return
    const since = this.#own.tick
    const started = performance.now()
    const entries = new Map<string, LocalEntry>()
    const files = [...(await this.#expand(names, entries))]
    const found = await eachConcurrently(files, ([name, seen]) =>
      this.#examineSafely(name, seen, entries.get(name), started),
    )
    await this.#commit(found.flat(), since)
  }

  /**
   * The names to examine, each with how it looked just now when that is known (examined without
   * a second lstat). A folder stands for the files under it, on disk and in the index.
   */
  async #expand(
    names: readonly string[],
    entries: Map<string, LocalEntry>,
  ): Promise<Map<string, Probe | undefined>> {
    const out = new Map<string, Probe | undefined>()
    const add = (name: string): void => {
      if (!out.has(name)) out.set(name, undefined)
    }
    // A watcher's hint may name what the walk would skip (a control character in the name).
    const servable = names.filter((name) => name === '' || this.#tree.servable(name) === name)
    const probes = await eachConcurrently(servable, (name) =>
      // A name that cannot be looked at is examined alone (and reported there).
      name === ''
        ? Promise.resolve<Probe>({ kind: 'dir' })
        : probe(this.#full(name)).catch(() => undefined),
    )
    for (const [i, name] of servable.entries()) {
      const p = probes[i]
      if (name !== '' && p?.kind !== 'dir') this.#o.folder?.(name, false)
      if (p?.kind === 'dir') {
        for (const file of await this.walk(name)) add(file)
        const under = name === '' ? this.#o.index.live() : this.#o.index.liveUnder(name)
        // Read once for the folder: the examination of each name then asks the index no more.
        for (const entry of under) {
          add(entry.name)
          entries.set(entry.name, entry)
        }
        continue
      }
      out.set(name, p)
      if (p?.kind === 'absent') for (const entry of this.#o.index.liveUnder(name)) add(entry.name)
    }
    return out
  }

  /** Names of the regular files under a folder ('' = the root), temp files excluded. */
  walk(dirName: string): Promise<string[]> {
    return this.#tree.files(dirName)
  }

  /** A scan that fails (the index closed at stop, a disk error) is reported; later ones go on. */
  async #scanSafely(names: readonly string[]): Promise<void> {
    try {
      await this.scan(names)
    } catch (err) {
      if (!this.#stopped) this.#o.warn(`scan failed: ${String(err)}`)
    }
  }

  /**
   * A name that cannot be looked at (EACCES, ELOOP, EIO) is reported once and looked at again
   * later, waiting longer each time: it must not stop the scan of every other name.
   */
  async #examineSafely(
    name: string,
    seen?: Probe,
    entry?: LocalEntry,
    probedAt?: number,
  ): Promise<Finding[]> {
    try {
      return await this.#examine(name, seen, entry, probedAt)
    } catch (err) {
      if (!this.#failing.has(name)) this.#o.warn(`cannot look at '${name}': ${String(err)}`)
      this.#failing.add(name)
      return this.#later(
        name,
        Math.min(SETTLE_MS * 2 ** (this.#unstable.get(name) ?? 0), MAX_SETTLE_MS) * 100,
        true,
      )
    }
  }

  /** `indexed`: the name's live entry, when the caller read it from the index a moment ago. */
  async #examine(
    name: string,
    probed?: Probe,
    indexed?: LocalEntry,
    probedAt = performance.now(),
  ): Promise<Finding[]> {
    if (this.#o.busy.has(name)) return []
    const seen = indexed ?? this.#o.index.get(name)
    const live = seen && !seen.deleted ? seen : undefined
    const full = this.#full(name)
    this.#lookedAt(name, probed ? probedAt : performance.now())
    const before = probed ?? (await probe(full))
    // Known here, held elsewhere (no fingerprint): no file at its name is no change. A client's
    // folder delete or rename of it is recorded in the index only (#gone).
    if (live && !live.fingerprint && before.kind !== 'file' && !this.#isExpected(name)) {
      this.#goneAt.delete(name)
      return []
    }
    if (before.kind !== 'file') {
      this.#unstable.delete(name)
      this.#known.delete(name)
      return this.#gone(name, live)
    }
    this.#goneAt.delete(name)
    if (live && sameFingerprint(live.fingerprint, before.fingerprint)) return []
    if (!live) {
      const renamed = await this.#renameSource(name, before.fingerprint)
      if (renamed) return renamed
    }
    const told = this.#told(name, before.fingerprint)
    if (told) return [this.#finding(name, seen, live, told, before.fingerprint, before.mtimeMs)]
    const settle = Math.min(SETTLE_MS * 2 ** (this.#unstable.get(name) ?? 0), MAX_SETTLE_MS)
    const age = this.#now() - before.ctimeMs
    if (age < settle) return this.#later(name, settle - age, false)
    const toldLate = await this.#toldAfterWrite(name, before.fingerprint)
    if (toldLate)
      return [this.#finding(name, seen, live, toldLate, before.fingerprint, before.mtimeMs)]
    let hash: string
    try {
      this.#hashReads++
      hash = await hashFile(full, before.fingerprint.size)
    } catch (err) {
      if (isGone(err)) return this.#later(name, 0, false)
      throw err
    }
    const after = await probe(full)
    if (
      after.kind !== 'file' ||
      after.ctimeMs !== before.ctimeMs ||
      !sameFingerprint(after.fingerprint, before.fingerprint)
    )
      return this.#later(name, settle, true)
    this.#unstable.delete(name)
    this.#failing.delete(name)
    return [this.#finding(name, seen, live, hash, before.fingerprint, before.mtimeMs)]
  }

  /** The hash a client's upload told for exactly this file at `name`, used up once taken. */
  #told(name: string, fp: Fingerprint): string | undefined {
    const known = this.#known.get(name)
    if (!known || !sameFingerprint(known.fp, fp)) return undefined
    this.#known.delete(name)
    return known.hash
  }

  /**
   * Before a big file is read: a client's write that is committing it holds its write lock, and
   * tells the hash under that lock; a read lock (in the main thread's table, where the client's
   * notices pass first) waits it out, and then its notice is in. Small files are read at once:
   * the wait would cost about what reading them does.
   */
  async #toldAfterWrite(name: string, fp: Fingerprint): Promise<string | undefined> {
    const confirm = this.#o.confirm
    if (!confirm || fp.size < WAIT_FOR_TOLD_BYTES) return undefined
    try {
      ;(await confirm([name]))()
    } catch {
      return undefined // stopping, or the lock table gone: read it
    }
    return this.#told(name, fp)
  }

  /** When `name` was last looked at (its lstat began no earlier), kept for the latest names. */
  #lookedAt(name: string, at: number): void {
    this.#looked.delete(name)
    this.#looked.set(name, at)
    if (this.#looked.size > MAX_LOOKED) this.#looked.delete(this.#looked.keys().next().value!)
  }

  /** Files read to hash them (for tests: what a told hash or an own write spared). */
  get hashReads(): number {
    return this.#hashReads
  }

  #finding(
    name: string,
    seen: LocalEntry | undefined,
    live: LocalEntry | undefined,
    hash: string,
    fp: Fingerprint,
    mtime: number,
  ): Finding {
    if (live?.hash === hash) return { kind: 'same', name, seen: live, fp }
    return { kind: 'new', name, seen, hash, fp, mtime }
  }

  /**
   * A client's upload published this content at this name: when the disk still shows exactly
   * that file (same inode, size and mtime), its hash is taken as told instead of read again.
   */
  remember(name: string, hash: string, fp: Fingerprint): void {
    this.#known.delete(name)
    this.#known.set(name, { hash, fp })
    if (this.#known.size > MAX_KNOWN) this.#known.delete(this.#known.keys().next().value!)
  }

  /**
   * A vanished file is recorded as deleted after a short grace, so that the name it may have been
   * renamed to (whose event can come a moment later) is seen first and the pair sent as a rename.
   */
  async #gone(name: string, live: LocalEntry | undefined): Promise<Finding[]> {
    const first = this.#goneAt.get(name)
    if (!live) {
      this.#goneAt.delete(name)
      return []
    }
    const told = this.#isExpected(name) ? this.#expected.get(name) : undefined
    if (told && !live.fingerprint) return this.#movedElsewhere(live, told.to)
    if (told) {
      const renamed = told.to === undefined ? undefined : await this.#renamedTo(live, told.to)
      if (renamed || told.to === undefined) {
        this.#goneAt.delete(name)
        return renamed ?? [{ kind: 'gone', name, seen: live }]
      }
    }
    const waited = first === undefined ? 0 : this.#now() - first
    if (first === undefined) this.#goneAt.set(name, this.#now())
    if (waited < GONE_GRACE_MS) return this.#later(name, GONE_GRACE_MS - waited, false)
    this.#goneAt.delete(name)
    return [{ kind: 'gone', name, seen: live }]
  }

  /**
   * A client's folder delete or rename of a file held elsewhere (no file here to see go): the
   * tombstone, and for a rename the new name with the same content, in the index only. The two
   * are one unit: the old name never goes without the moved entry that keeps its content named
   * (its holders delete their copy at the tombstone). When the new name is live already (ops
   * refuses a move onto a known name, so hardly ever), the moved version goes to its conflict
   * copy's name instead, as two versions of one name meeting would; when that is live too, the
   * old name is left alone, with a warning.
   */
  #movedElsewhere(live: LocalEntry, to: string | undefined): Finding[] {
    this.#goneAt.delete(live.name)
    const gone: Finding = { kind: 'gone', name: live.name, seen: live }
    if (to === undefined) return [gone]
    if (!live.hash) {
      this.#expected.delete(live.name)
      this.#o.warn(`'${live.name}' was not moved to '${to}' in the index: its content is unknown`)
      return []
    }
    const free = (name: string): LocalEntry | undefined | false => {
      const seen = this.#o.index.get(name)
      return seen && !seen.deleted ? false : seen
    }
    let name = to
    let seen = free(to)
    if (seen === false) {
      name = conflictName(to, live.mtime, this.#o.self)
      seen = free(name)
      if (seen === false) {
        this.#expected.delete(live.name)
        this.#o.warn(
          `'${live.name}' (held at other members) was left at its name: '${to}' and '${name}' are taken`,
        )
        return []
      }
      this.#o.warn(`'${to}' is taken: '${live.name}' (held at other members) moved to '${name}'`)
    }
    return [{ kind: 'moved', name, seen, source: live }, gone]
  }

  /**
   * A new name whose inode, size and mtime are those of an indexed file that is no longer at its
   * own name: that file was renamed (content known, nothing to read).
   */
  async #renameSource(name: string, fp: Fingerprint): Promise<Finding[] | undefined> {
    for (const old of this.#o.index.byInode(fp.ino)) {
      if (old.name === name || !sameFingerprint(old.fingerprint, fp) || !old.hash) continue
      if (this.#o.busy.has(old.name)) continue
      if ((await probe(this.#full(old.name))).kind === 'file') continue // a hard link, not a rename
      const seen = this.#o.index.get(name)
      return [
        { kind: 'new', name, seen, hash: old.hash, fp, mtime: old.mtime, renamedFrom: old.name },
        { kind: 'gone', name: old.name, seen: old },
      ]
    }
    return undefined
  }

  /**
   * A client is about to delete or rename these files (a folder's, under their locks). Their
   * vanishing is then recorded as that, not held as a mass deletion; renames are paired.
   */
  expect(change: TreeChange): void {
    const until = this.#now() + EXPECT_MS
    for (const [name, entry] of this.#expected)
      if (entry.until < this.#now()) this.#expected.delete(name)
    const told =
      change.kind === 'delete'
        ? change.names.map((name) => ({ from: name, to: undefined }))
        : change.pairs
    const names: string[] = []
    const elsewhere: Finding[] = []
    for (const { from, to } of told) {
      // Files known here but held elsewhere: nothing on this disk will change for them (no event
      // comes, and no inventory after a crash would find a trace), so they are recorded now, in
      // the index only, before the client is answered (the operation holds their write locks:
      // nothing else changes these names meanwhile).
      const entry = this.#o.index.get(from)
      if (entry && !entry.deleted && !entry.fingerprint) {
        elsewhere.push(...this.#movedElsewhere(entry, to))
        continue
      }
      this.#expected.set(from, { to, until })
      names.push(from)
    }
    this.#recordElsewhere(elsewhere)
    // Found and held before this notice came (it is sent first, so hardly ever): let them pass.
    this.#guard.pass(names)
  }

  /**
   * Store a client's told deletions and renames of files held elsewhere (tombstones, moved
   * pairs), at once and in one transaction. The client's notice for them comes as it lets its
   * locks go: until then they are checked like any change (#confirm), which attaches the
   * client's request (rid) once its notice is in, and reports nothing then.
   */
  #recordElsewhere(findings: readonly Finding[]): void {
    if (findings.length === 0) return
    const since = this.#own.tick
    const { index, self } = this.#o
    const entries: NewEntry[] = []
    const changes: Unexplained[] = []
    const moved = new Map<string, string>() // source → new name
    for (const f of findings) if (f.kind === 'moved') moved.set(f.source.name, f.name)
    for (const f of findings) {
      if (f.kind === 'moved') {
        entries.push(movedVersion(f, self))
        changes.push({
          change: { what: 'renamed', name: f.source.name, to: f.name, bytes: f.source.size },
          states: [
            { name: f.name, fp: null },
            { name: f.source.name, fp: null },
          ],
        })
      } else if (f.kind === 'gone') {
        entries.push(tombstone(f.seen, self, this.#now()))
        if (!moved.has(f.name))
          changes.push({
            change: { what: 'deleted', name: f.name, to: null, bytes: null },
            states: [{ name: f.name, fp: null }],
          })
      }
    }
    // Durable before the client is answered: after a power cut no disk change would tell them.
    index.putDurably(renamesTogether(entries))
    if (!this.#quiet) this.#confirm(changes, since)
  }

  /** Is `name` a file a client told it is deleting or renaming (and not long ago)? */
  #isExpected(name: string): boolean {
    const entry = this.#expected.get(name)
    return entry !== undefined && entry.until >= this.#now()
  }

  /** The told rename of `old` to `to`, when the file at `to` is `old`'s (same inode, size, mtime). */
  async #renamedTo(old: LocalEntry, to: string): Promise<Finding[] | undefined> {
    if (!old.hash || !old.fingerprint || this.#o.busy.has(to)) return undefined
    const now = await probe(this.#full(to)).catch(() => undefined)
    if (now?.kind !== 'file' || !sameFingerprint(old.fingerprint, now.fingerprint)) return undefined
    const seen = this.#o.index.get(to)
    if (seen && !seen.deleted && sameFingerprint(seen.fingerprint, now.fingerprint))
      return undefined
    return [
      {
        kind: 'new',
        name: to,
        seen,
        hash: old.hash,
        fp: now.fingerprint,
        mtime: old.mtime,
        renamedFrom: old.name,
      },
      { kind: 'gone', name: old.name, seen: old },
    ]
  }

  /** Not ready: look again later; a file that changed while read waits longer each time. */
  #later(name: string, delayMs: number, changed: boolean): [] {
    if (changed) this.#unstable.set(name, (this.#unstable.get(name) ?? 0) + 1)
    clearTimeout(this.#retry.get(name))
    this.#retry.set(
      name,
      setTimeout(
        () => {
          this.#retry.delete(name)
          this.hint(name)
        },
        Math.max(1, Math.ceil(delayMs)),
      ),
    )
    return []
  }

  async #commit(all: Finding[], since: number): Promise<void> {
    // Renamed (the content is at its new name) or told by a client: not the guard's to judge.
    const renamed = new Set<string>()
    for (const f of all) if (f.kind === 'new' && f.renamedFrom) renamed.add(f.renamedFrom)
    for (const f of all) if (f.kind === 'moved') renamed.add(f.source.name)
    const passes = (name: string): boolean => renamed.has(name) || this.#isExpected(name)
    const gone = all.filter((f) => f.kind === 'gone' && !passes(f.name)).map((f) => f.name)
    const admitted = new Set(this.#guard.admit(gone, await this.#folderGone(gone)))
    for (const f of all) if (f.kind === 'gone' && passes(f.name)) admitted.add(f.name)
    const findings = all.filter((f) => f.kind !== 'gone' || admitted.has(f.name))
    // A few deletions: the folder must still be there (a burst is judged by the guard).
    if (admitted.size > 0 && !(await directoryExists(this.#o.root)))
      return this.#o.refuse(`the data directory ${this.#o.root} has vanished`)
    const { index, self } = this.#o
    const entries: NewEntry[] = []
    const goneByHash = new Map<string, string>()
    for (const f of findings)
      if (f.kind === 'gone' && f.seen.hash) goneByHash.set(f.seen.hash, f.name)
    const done = new Set<string>()
    const found: { f: Extract<Finding, { kind: 'new' }>; from: string | undefined }[] = []
    const unexplainedGone = new Map<string, LocalEntry>()
    // Someone (the applier) stored this name while we looked: our view is stale, look again.
    const stale = (f: Finding): boolean =>
      index.get(f.name)?.seq !== f.seen?.seq || this.#o.busy.has(f.name)
    // A told rename of a file held elsewhere is one unit: its old name goes only with its moved
    // entry (else the holders delete the one version, and no entry names its content).
    const movedTo = new Map<string, Extract<Finding, { kind: 'moved' }>>()
    for (const f of findings) if (f.kind === 'moved') movedTo.set(f.source.name, f)
    for (const f of findings) {
      if (done.has(f.name)) continue // found twice (a rename's source was also scanned itself)
      done.add(f.name)
      this.#known.delete(f.name) // what it told is used or outdated now
      const pair = f.kind === 'moved' ? f : f.kind === 'gone' ? movedTo.get(f.name) : undefined
      const source = pair && { kind: 'gone' as const, name: pair.source.name, seen: pair.source }
      if (stale(f) || (pair && source && (stale(pair) || stale(source)))) {
        this.hint(f.name)
        if (pair) this.hint(pair.source.name)
        continue
      }
      if (f.kind === 'same') {
        // Known here but held elsewhere until now (the file appeared with that content): held
        // from now on, and said so to the peers (the same version again, with a new seq).
        if (f.seen.fingerprint) index.setFingerprint(f.name, f.fp)
        else entries.push({ entry: storedAgain(f.seen), fingerprint: f.fp })
      } else if (f.kind === 'moved') {
        const notice = this.#own.matchNotice(f.name, null, since)
        entries.push(withRequest(movedVersion(f, self), notice?.request))
      } else if (f.kind === 'gone') {
        const notice = this.#own.matchNotice(f.name, null, since)
        const request = notice?.request ?? this.#recovered.get(f.name)
        entries.push(withRequest(tombstone(f.seen, self, this.#now()), request))
        this.#expected.delete(f.name)
        if (!notice) unexplainedGone.set(f.name, f.seen)
      } else {
        const from =
          f.seen && !f.seen.deleted ? undefined : (f.renamedFrom ?? goneByHash.get(f.hash))
        const notice = this.#own.matchNotice(f.name, f.fp, since)
        const request = notice?.request ?? this.#recovered.get(f.name)
        entries.push(withRequest(newVersion(f, self, from, this.#identity(f, from)), request))
        if (!notice) found.push({ f, from })
      }
    }
    index.put(renamesTogether(entries))
    if (!this.#quiet) this.#confirm(localChanges(found, unexplainedGone), since)
  }

  /**
   * Placement's identity for a new version: a known live name keeps its file's, a rename keeps
   * its source's, anything else is a new file made here.
   */
  #identity(f: Extract<Finding, { kind: 'new' }>, from: string | undefined) {
    if (f.seen && !f.seen.deleted) return identityOf(f.seen)
    const source = from === undefined ? undefined : this.#o.index.get(from)
    if (source && !source.deleted && source.fileId) return identityOf(source)
    const copy = this.#copyIds.get(f.name)
    this.#copyIds.delete(f.name)
    return copy ?? newFileId(this.#o.self, f.name)
  }

  /**
   * Report what no notice explained, once any client write under way on those names is over
   * (its notice, sent under its lock, is in by then): a notice that came late still explains.
   */
  #confirm(changes: Unexplained[], since: number): void {
    const report = this.#o.localChange
    if (changes.length === 0 || !report) return
    const confirm = this.#o.confirm
    if (!confirm) return changes.forEach((c) => report(c.change))
    const names = [...new Set(changes.flatMap((c) => c.states.map((s) => s.name)))]
    confirm(names)
      .then(
        (release) => {
          let left = changes // what no notice explains: all of it unless the look-ups get through
          try {
            const again = new Map<string, NewEntry>() // a name in two changes is stored again once
            left = changes.filter(
              (c) =>
                !c.states.every((s) => {
                  const notice = this.#own.matchNotice(s.name, s.fp, since, true)
                  const entry = notice?.request && this.#lateRequest(s.name, s.fp, notice.request)
                  if (entry && !again.has(s.name)) again.set(s.name, entry)
                  return notice !== undefined
                }),
            )
            // One transaction for the batch (a put of many small files had one per file here:
            // the watcher is often quicker than the writes' notices).
            this.#o.index.put([...again.values()])
          } catch (err) {
            // The index closed at stop, or a disk error: entries may keep no rid (a replay of
            // those requests at a peer would apply again), said rather than thrown from here.
            if (!this.#stopped)
              this.#o.warn(
                `could not finish storing late requests on their entries: ${String(err)}`,
              )
          } finally {
            release()
          }
          for (const c of left) report(c.change)
        },
        // Stopping, or the lock table gone: what was found is still reported.
        () => changes.forEach((c) => report(c.change)),
      )
      .catch((err: unknown) => {
        // A report that could not be passed on: said, never an unhandled rejection in the worker.
        if (!this.#stopped) this.#o.warn(`local changes not reported: ${String(err)}`)
      })
  }

  /**
   * A client request's notice that came after its change was indexed (the scanner was quicker):
   * the entry to store again with the request, unchanged otherwise (same version, a new seq),
   * so that the peers still learn the rid and its answer. The caller stores a batch at once.
   */
  #lateRequest(name: string, fp: Fingerprint | null, request: EntryRequest): NewEntry | undefined {
    const entry = this.#o.index.get(name)
    if (!entry || entry.request || entry.origin !== this.#o.self) return undefined
    if (entry.deleted ? fp !== null : !sameFingerprint(entry.fingerprint, fp)) return undefined
    const { fingerprint, ...rest } = entry // its seq is replaced by the next one
    return { entry: { ...rest, request }, fingerprint }
  }

  /** Has a folder that held one of these names vanished (the root included)? */
  async #folderGone(names: readonly string[]): Promise<boolean> {
    const folders = new Set(names.map((n) => path.posix.dirname(n)))
    for (const folder of folders) {
      const dir = folder === '.' ? this.#o.root : this.#full(folder)
      if (!(await directoryExists(dir))) return true
    }
    return false
  }

  #full(name: string): string {
    return this.#tree.full(name)
  }
}

/** The entry, made by this client request (when one told it): the peers learn its rid. */
function withRequest(e: NewEntry, request: EntryRequest | undefined): NewEntry {
  return request ? { ...e, entry: { ...e.entry, request } } : e
}

/**
 * New versions first, each rename's tombstone right after its new name: a receiver sees every
 * rename whole (its two entries in one batch however the entries are cut into batches, bar one
 * pair at a cut), then the plain deletions.
 */
function renamesTogether(entries: NewEntry[]): NewEntry[] {
  const tombstones = new Map<string, NewEntry>()
  for (const e of entries) if (e.entry.deleted) tombstones.set(e.entry.name, e)
  const out: NewEntry[] = []
  for (const e of entries) {
    if (e.entry.deleted) continue
    out.push(e)
    const from = e.entry.renamedFrom ? tombstones.get(e.entry.renamedFrom) : undefined
    if (from) {
      out.push(from)
      tombstones.delete(from.entry.name)
    }
  }
  return [...out, ...tombstones.values()]
}

/**
 * What a commit recorded without a notice, as a person would say it: a new name whose content
 * left another name that also went is one rename, not a creation and a deletion.
 */
function localChanges(
  found: readonly { f: Extract<Finding, { kind: 'new' }>; from: string | undefined }[],
  gone: Map<string, LocalEntry>,
): Unexplained[] {
  const changes: Unexplained[] = []
  for (const { f, from } of found) {
    const bytes = f.fp.size
    if (from !== undefined && gone.delete(from)) {
      changes.push({
        change: { what: 'renamed', name: from, to: f.name, bytes },
        states: [
          { name: f.name, fp: f.fp },
          { name: from, fp: null },
        ],
      })
      continue
    }
    const what = f.seen && !f.seen.deleted ? 'modified' : 'created'
    changes.push({
      change: { what, name: f.name, to: null, bytes },
      states: [{ name: f.name, fp: f.fp }],
    })
  }
  for (const name of gone.keys())
    changes.push({
      change: { what: 'deleted', name, to: null, bytes: null },
      states: [{ name, fp: null }],
    })
  return changes
}

/**
 * The longest the examining of a batch runs without letting the thread's event loop take a turn.
 * A small file is looked at and hashed with synchronous calls (disk-probe.ts): without a turn, a
 * scan of thousands of them would hold the peers' sockets and timers (heartbeats) until its end.
 */
const YIELD_AFTER_MS = 5

/** `fn` over `items`, CONCURRENCY at a time, results in order. */
async function eachConcurrently<T, R>(
  items: readonly T[],
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  let turn = performance.now()
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      results[i] = await fn(items[i]!)
      // Every worker that finds the time up waits for the turn; the first one back starts a new one.
      if (performance.now() - turn >= YIELD_AFTER_MS) {
        await nextTurn()
        turn = Math.max(turn, performance.now())
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker))
  return results
}
