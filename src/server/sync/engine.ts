/**
 * The sync engine's composition root: builds its parts in dependency order (index → scanner →
 * user locks → set-aside → applier → file-exchange port → members), starts them (the inventory of
 * the disk, then the peers), refuses, reports status and stops. It knows nothing of threads: what
 * it needs of the main thread (path locks) and what it tells it (EngineReport) go through an
 * EngineHost; sync-worker.ts is its thread's entry.
 */
import { once } from 'node:events'
import type net from 'node:net'
import { TandemError } from '../../protocol/errors.js'
import type { EntryRequest } from '../../protocol/peer-messages.js'
import { RefusalNotices } from '../refusal-notices.js'
import { openIndexDb, type IndexDb } from '../index/database.js'
import { FileIndex } from '../index/file-index.js'
import type { TreeChange } from '../index/tree-change.js'
import type { WrittenState } from '../ops/own-writes.js'
import { FileStore } from '../storage/file-store.js'
import type { FileIdentity } from '../storage/temp-file.js'
import type { UserLockRequest } from '../workers/messages.js'
import { BulkMode } from '../watch/bulk-mode.js'
import { Scanner } from '../watch/scanner.js'
import { directoryExists } from '../watch/tree-walk.js'
import { Watcher } from '../watch/watcher.js'
import { Applier } from './applier.js'
import { BusyNames } from './busy-names.js'
import { createExchangeServer, type ExchangeServer } from './exchange-server.js'
import { Members, type MemberAdded, type MemberInput } from './members.js'
import type { EngineReport, SyncState, SyncWorkerData } from './messages.js'
import { PeerLink, type MemberSource } from './peer-link.js'
import { Replication, type LinkUp } from './replication/replication.js'
import type { PeerSource } from './peer-source.js'
import { freeBytes } from './room.js'
import { SetAside } from './set-aside.js'
import { SetAsideStore } from './set-aside-store.js'
import { LockChanges } from './user-locks/lock-changes.js'
import { QueuedContent } from './user-locks/queued-content.js'
import { UserLockStore } from './user-locks/user-lock-store.js'
import { UserLocks } from './user-locks/user-locks.js'

/** What the engine needs of the main thread, and tells it. */
export interface EngineHost {
  /** Path locks from the main thread's table (write by default); resolves to their release. */
  lock(names: readonly string[], mode?: 'read'): Promise<() => void>
  tell(report: EngineReport): void
}

export class SyncEngine {
  readonly #data: SyncWorkerData
  readonly #host: EngineHost
  readonly #db: IndexDb
  readonly #index: FileIndex
  readonly #scanner: Scanner
  readonly #bulk: BulkMode
  readonly #lockStore: UserLockStore
  readonly #userLocks: UserLocks
  readonly #lockChanges: LockChanges
  readonly #setAside: SetAside
  readonly #applier: Applier
  readonly #exchange: ExchangeServer
  readonly #members = new Members()
  /**
   * --replicas: placement, healing and rebalancing (absent: every member holds every file; without
   * --replicas, present only while files held elsewhere are fetched back).
   */
  readonly #replication: Replication | undefined
  readonly #refusals = new RefusalNotices()
  #watcher: Watcher | undefined
  #state: SyncState['sync'] = { state: 'starting' }
  /** Members are followed once the inventory is done (until then they wait in #members). */
  #following = false
  /** The clients this server serves, told in each heartbeat. */
  #clients = 0
  syncPort = 0

  private constructor(data: SyncWorkerData, host: EngineHost) {
    this.#data = data
    this.#host = host
    const lock = (names: readonly string[], mode?: 'read') => host.lock(names, mode)
    const warn = (message: string): void => host.tell({ t: 'warn', message })
    this.#db = openIndexDb(data.stateDir)
    const index = (this.#index = new FileIndex(this.#db, data.requestWindow))
    const store = new FileStore(data.root)
    const busy = new BusyNames()
    this.#bulk = new BulkMode(
      () => this.#watcher?.pause(),
      () => this.#watcher?.resume(),
      (name) => (this.#watcher ? this.#watcher.notice(name) : this.#scanner.hint(name)),
    )
    this.#scanner = new Scanner({
      root: data.root,
      index,
      self: data.self,
      busy,
      refuse: (reason) => this.refuse(reason),
      warn,
      confirm: (names) => lock(names, 'read'),
      localChange: (change) => host.tell({ t: 'local-change', ...change }),
      folder: (name, present) => this.#watcher?.folder(name, present),
    })
    this.#lockStore = new UserLockStore(this.#db)
    this.#userLocks = new UserLocks({
      self: data.self,
      store: this.#lockStore,
      content: new QueuedContent(data.stateDir, index, store),
      index,
      files: store,
      lockPaths: lock,
      scan: (name) => this.#scanner.settle(name),
      peer: (name) => this.#members.byName(name),
      report: (event) => host.tell({ t: 'lock-event', ...event }),
      changed: () => this.#locksChanged(),
      warn,
    })
    this.#lockChanges = new LockChanges(() => this.#userLocks.list())
    this.#setAside = new SetAside({
      store: new SetAsideStore(this.#db),
      retry: (peer, entries, generation) =>
        this.#applier.applyBatch(this.#retrySource(peer, generation), entries),
      freeBytes: () => freeBytes(data.root),
      report: (e) =>
        host.tell({ t: 'log', op: e.op, name: e.name, peer: e.peer, detail: e.detail }),
    })
    // A change here may unblock what waits: the same name, a folder above it, a file below it.
    index.onStored((entries) => this.#setAside.nudge(entries.map((e) => e.name)))
    this.#replication = this.#replicationFor(data, index)
    if (this.#replication) index.onStored(() => this.#replication?.nudge())
    this.#applier = new Applier({
      self: data.self,
      index,
      store,
      scanner: this.#scanner,
      busy,
      held: this.#userLocks,
      lock,
      rootPresent: () => this.#rootPresent(),
      bulk: this.#bulk,
      setAside: this.#setAside,
      ...(this.#replication && data.replicas !== null
        ? { placement: this.#replication.placement }
        : {}),
      // Content a peer only passed on (it does not hold it) comes from a member that does.
      sourceFor: (peer) => {
        const link = this.#members.byName(peer)
        return link?.up ? link : undefined
      },
      report: (r) =>
        host.tell({
          t: 'log',
          op: r.op,
          name: r.name,
          to: r.to ?? null,
          size: r.size ?? null,
          peer: r.peer,
          ...(r.detail === undefined ? {} : { detail: r.detail }),
        }),
      warn,
    })
    this.#userLocks.applyThrough(this.#applier)
    this.#exchange = createExchangeServer({
      self: data.self,
      index,
      store,
      refusal: () => (this.#state.state === 'refused' ? (this.#state.reason ?? 'refused') : null),
      onClockReport: (peer, skewMs) => this.#clockSkew(peer, skewMs),
      clusterKey: data.clusterKey,
      replicas: data.replicas,
      onRefused: (peer, reason, code) => this.#memberRefused(peer, reason, code),
      locks: this.#lockChanges,
      clients: () => this.#clients,
      // A peer back (a restart) that dials us first: our link to it, asleep in its backoff (up
      // to 5 s, peer-link.ts), tries again now rather than leave its changes unfetched so long.
      onPeerUp: (peer) => this.#members.byName(peer)?.retryNow(),
      warn,
    })
    for (const address of data.peers) this.#members.add(this.#link({ address, source: 'static' }))
    if (data.primary && !data.peers.includes(data.primary))
      this.#members.add(this.#link({ address: data.primary, source: 'primary' }))
  }

  /** Build the engine, listen on the file-exchange port and load the user locks. */
  static async open(data: SyncWorkerData, host: EngineHost): Promise<SyncEngine> {
    const engine = new SyncEngine(data, host)
    const server = engine.#exchange.server
    server.listen(data.syncPort, data.host)
    await once(server, 'listening')
    engine.syncPort = (server.address() as net.AddressInfo).port
    engine.#userLocks.load()
    host.tell({ t: 'user-locks', locks: engine.#userLocks.list() })
    return engine
  }

  /**
   * The inventory (what changed while the server was down), then follow the peers. At startup
   * an emptied directory is refused whatever the count: it changed while nobody watched (a wiped
   * disk, a failed mount), and the index is all that remembers the files.
   */
  async run(): Promise<void> {
    const { root } = this.#data
    const emptied = await this.#scanner.emptied()
    if (emptied) return this.refuse(emptied.reason)
    // This server's rids whose entry a crash may have kept from them (the inventory gives it).
    this.#scanner.recover(this.#data.recentRequests ?? [])
    this.#watcher = new Watcher({
      root,
      // A change on disk may unblock what is set aside (a symlink or a folder in the way removed).
      scanner: {
        hint: (name, since) => {
          this.#scanner.hint(name, since)
          if (name !== '') this.#setAside.nudge([name])
        },
      },
      rescanIntervalMs: this.#data.rescanIntervalMs,
      onRootLost: () => this.refuse(`the data directory ${root} has vanished`),
      warn: (message) => this.#host.tell({ t: 'warn', message }),
    })
    // Watches first, then the inventory: a change during either is seen by one or the other.
    await this.#watcher.ready
    await this.#scanner.inventory()
    if (this.#state.state === 'refused') return
    this.#state = { state: 'running' }
    const files = this.#index.liveCount()
    this.#host.tell({
      t: 'info',
      message: `sync: ${files} file(s) indexed; file-exchange on ${this.#data.host}:${this.syncPort}`,
    })
    await this.#userLocks.begin()
    this.#following = true
    for (const link of this.#members.all())
      if (link.knownName !== null) this.#replication?.known(link.knownName)
    this.#members.startAll()
    this.#setAside.start()
    this.#replication?.start()
  }

  status(): SyncState {
    const placement = this.#replication?.status()
    return {
      peers: this.#members.status(),
      members: this.#members.members(),
      sync: {
        ...this.#state,
        files: this.#index.liveCount(),
        seq: this.#index.seq,
        setAside: this.#setAside.list(),
      },
      ...(placement ? { placement } : {}),
    }
  }

  /** A client's upload published this content (the scanner need not hash it again). */
  published(name: string, sha256: string, identity: FileIdentity): void {
    this.#scanner.remember(name, sha256, identity)
  }

  treeChange(change: TreeChange): void {
    this.#scanner.expect(change)
  }

  wrote(states: WrittenState[]): void {
    this.#scanner.wrote(states)
  }

  /** A client request (rid) applied: the next notices for `names` carry it (and its answer). */
  requestDone(request: EntryRequest, names: readonly string[]): void {
    this.#scanner.requestDone(request, names)
  }

  /** A client's lock or unlock. */
  userLock(m: UserLockRequest & { owner: string }): Promise<unknown> {
    return m.op === 'lock'
      ? this.#userLocks.lock(m.name, m.owner, m.ttlSeconds)
      : this.#userLocks.unlock(m.name, m.owner, m.force ?? false)
  }

  /**
   * Follow a member found at run time (by discovery): by name, never this server itself; a known
   * name at a new address moves that member there; a known address is nothing new.
   */
  addMember(m: MemberInput): MemberAdded {
    if (m.name === this.#data.self) return 'self'
    const named = m.name === undefined ? undefined : this.#members.byName(m.name)
    if (named) {
      // Only a member that is not connected moves (restarted on other ports): an announcement of
      // a live member's name from elsewhere is someone else's claim, and must not redirect it.
      if (named.address === m.address || named.up) return 'known'
      named.moveTo(m.address)
      return 'moved'
    }
    if (this.#members.byAddress(m.address)) return 'known'
    const link = this.#link({ address: m.address, source: m.source ?? 'discovered', name: m.name })
    this.#members.add(link)
    if (this.#following && this.#state.state === 'running') link.start()
    return 'added'
  }

  /**
   * A member refused us, or we it (ERR_AUTH), as the handshake saw it: shown in `status` and told
   * (console, change log). `peer`: its name or address, whichever is known.
   */
  refused(peer: { name?: string; address?: string }, reason: string): void {
    const link =
      (peer.name === undefined ? undefined : this.#members.byName(peer.name)) ??
      (peer.address === undefined ? undefined : this.#members.byAddress(peer.address))
    if (link) return link.refused(reason)
    this.#memberRefused(peer.name ?? peer.address ?? 'a server', reason)
  }

  /** The clients this server serves now. */
  clients(count: number): void {
    this.#clients = count
  }

  /** Stop syncing for good (a mass deletion, a vanished directory): peers are refused. */
  refuse(reason: string): void {
    if (this.#state.state === 'refused') return
    this.#state = { state: 'refused', reason }
    this.#host.tell({
      t: 'warn',
      message:
        `sync refused (ERR_SYNC_REFUSED): ${reason}; not propagating a mass deletion. Restore the files and restart, ` +
        `or stop the server and remove ${this.#data.stateDir}/index.db (with its -wal and -shm files) to take every file from the peers.`,
    })
    this.#scanner.stop()
    this.#bulk.stop()
    this.#applier.stop()
    this.#setAside.stop()
    this.#replication?.stop()
    this.#members.stopAll()
    this.#exchange.dropConnections()
    void this.#watcher?.close()
  }

  async stop(): Promise<void> {
    this.#userLocks.stop()
    this.#setAside.stop()
    this.#replication?.stop()
    this.#scanner.stop()
    this.#bulk.stop()
    this.#applier.stop()
    this.#members.stopAll()
    this.#exchange.server.close()
    this.#exchange.dropConnections()
    await this.#watcher?.close()
    this.#index.markClean()
    this.#db.close()
  }

  #link(m: { address: string; source: MemberSource; name?: string | undefined }): PeerLink {
    const tell = (report: EngineReport): void => this.#host.tell(report)
    return new PeerLink({
      address: m.address,
      source: m.source,
      ...(m.name === undefined ? {} : { name: m.name }),
      self: this.#data.self,
      clusterKey: this.#data.clusterKey,
      replicas: this.#data.replicas,
      index: this.#index,
      applier: this.#applier,
      peerTimeoutMs: this.#data.peerTimeoutMs,
      onNamed: (link, name) => this.#members.claim(link, name),
      onUp: (peer) => {
        const link = this.#members.byName(peer)
        if (link) this.#replication?.linkUp(linkUp(link))
        tell({ t: 'log', op: 'member-joined', name: null, peer })
      },
      onDown: (peer, reason) => {
        this.#replication?.linkDown(peer)
        tell({ t: 'log', op: 'member-left', name: null, peer, detail: reason })
      },
      onClockSkew: (peer, skewMs) => this.#clockSkew(peer, skewMs),
      onRefused: (peer, reason, code) => this.#memberRefused(peer, reason, code),
      onLocks: (peer, locks) => this.#lockStore.replacePeerLocks(peer, locks),
      onNewEpoch: (peer) => this.#setAside.forgetPeer(peer),
      warn: (message) => tell({ t: 'warn', message }),
    })
  }

  /**
   * With --replicas: the member view, the Placement the applier asks, the healing driver. Without
   * it, only while the index lists files held elsewhere (--replicas was removed): the driver
   * fetches them back, with every member desired. A server that holds every file it lists (as
   * one that never ran with --replicas does) builds nothing.
   */
  #replicationFor(data: SyncWorkerData, index: FileIndex): Replication | undefined {
    if (data.replicas === null && index.heldCount() >= index.liveCount()) return undefined
    return new Replication({
      self: data.self,
      root: data.root,
      replicas: data.replicas,
      rereplicateAfterMs: data.rereplicateAfterMs,
      db: this.#db,
      index,
      copies: () => this.#applier,
      sourceFor: (peer) => {
        const link = this.#members.byName(peer)
        return link?.up ? link : undefined
      },
      report: (r) =>
        this.#host.tell({ t: 'log', op: r.op, name: r.name, peer: r.peer, size: r.size }),
      warn: (message) => this.#host.tell({ t: 'warn', message }),
    })
  }

  /** The main thread first (in order with the path-lock release that follows), then the peers. */
  #locksChanged(): void {
    this.#host.tell({ t: 'user-locks', locks: this.#userLocks.list() })
    this.#lockChanges.changed()
  }

  async #rootPresent(): Promise<boolean> {
    if (await directoryExists(this.#data.root)) return true
    this.refuse(`the data directory ${this.#data.root} has vanished`)
    return false
  }

  /**
   * A set-aside retry's source: fetches through the link to that peer (a peer no longer
   * configured cannot be fetched from), and says which generation of the peer it retries.
   */
  #retrySource(peer: string, generation: number): PeerSource {
    const link = this.#members.byName(peer)
    return {
      name: peer,
      generation,
      fetch: (name, hash, size, temp) =>
        link
          ? link.fetch(name, hash, size, temp)
          : Promise.reject(new TandemError('ERR_PEER_UNREACHABLE', `${peer} is not a peer now`)),
      onReport: () => link?.onReport(),
    }
  }

  /**
   * A peer refused for the cluster key (ERR_AUTH) or another --replicas (ERR_REPLICAS_MISMATCH),
   * by either side: console and change log.
   */
  #memberRefused(peer: string, reason: string, code: string = 'ERR_AUTH'): void {
    if (this.#refusals.shouldReport(peer, reason))
      this.#host.tell({
        t: 'log',
        op: 'member-refused',
        name: null,
        peer,
        detail: `${reason} (${code})`,
      })
  }

  #clockSkew(peer: string, skewMs: number): void {
    this.#host.tell({
      t: 'log',
      op: 'clock-skew',
      name: null,
      peer,
      detail: String(Math.round(skewMs)),
    })
  }
}

/** What replication records of a link that is up (the welcome's http and capacity, when sent). */
function linkUp(link: PeerLink): LinkUp {
  return { name: link.name, address: link.address, remote: link.remote ?? undefined }
}
