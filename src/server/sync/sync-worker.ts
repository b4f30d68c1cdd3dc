/**
 * The peer-sync worker: a plain worker thread that owns the watcher, the
 * file index, the file-exchange port and the links to the peers. Startup: inventory the disk
 * against the index (changes made while the server was down), refusing to sync a data directory
 * that looks emptied or vanished; then serve peers and follow them.
 */
import { once } from 'node:events'
import type net from 'node:net'
import { parentPort, workerData } from 'node:worker_threads'
import { TandemError, toWireError, type SyncStatus } from '../../protocol/index.js'
import { LockChanges } from '../locks/lock-changes.js'
import { openIndexDb } from '../index/database.js'
import { FileIndex } from '../index/file-index.js'
import { FileStore } from '../storage/file-store.js'
import { Scanner } from '../watch/scanner.js'
import { directoryExists } from '../watch/tree-walk.js'
import { BulkMode } from '../watch/bulk-mode.js'
import { Watcher } from '../watch/watcher.js'
import { Applier, type PeerSource } from './applier.js'
import { BusyNames } from './busy-names.js'
import { createExchangeServer } from './exchange-server.js'
import type { FromSync, SyncWorkerData, ToSync } from './messages.js'
import { PeerLink } from './peer-link.js'
import { freeBytes } from './room.js'
import { SetAside } from './set-aside.js'
import { SetAsideStore } from './set-aside-store.js'
import { QueuedContent } from './queued-content.js'
import { UserLockStore } from '../locks/user-lock-store.js'
import { UserLocks } from './user-locks.js'

const data = workerData as SyncWorkerData
const port = parentPort!
// Messages of one microtask leave as one (a bulk mirror asks for thousands of locks).
let outbox: FromSync[] = []
const flush = (): void => {
  const batch = outbox
  outbox = []
  if (batch.length > 0)
    port.postMessage(batch.length === 1 ? batch[0] : { t: 'batch', messages: batch })
}
const post = (message: FromSync): void => {
  if (outbox.length === 0) queueMicrotask(flush)
  outbox.push(message)
}
const info = (message: string): void => post({ t: 'info', message })
const warn = (message: string): void => post({ t: 'warn', message })

let lockReq = 0
const lockWaits = new Map<number, { resolve(token: number): void; reject(err: Error): void }>()
const statusOf: { state: SyncStatus['state']; reason?: string } = { state: 'starting' }

async function main(): Promise<void> {
  const db = openIndexDb(data.stateDir)
  const index = new FileIndex(db, data.requestWindow)
  const store = new FileStore(data.root)
  const busy = new BusyNames()
  const running: { watcher?: Watcher } = {}
  const bulk = new BulkMode(
    () => running.watcher?.pause(),
    () => running.watcher?.resume(),
  )
  const scanner = new Scanner({
    root: data.root,
    index,
    self: data.self,
    busy,
    refuse: (reason) => refuse(reason),
    warn,
    confirm: (names) => lockNames(names, 'read'),
    localChange: (change) => post({ t: 'local-change', ...change }),
  })
  const lockStore = new UserLockStore(db)
  const userLocks: UserLocks = new UserLocks({
    self: data.self,
    store: lockStore,
    content: new QueuedContent(data.stateDir, index, store),
    index,
    files: store,
    lockPaths: lockNames,
    scan: (name) => scanner.settle(name),
    peer: (name) => links.find((link) => link.name === name),
    apply: (source, entry) => applier.applyBatch(source, [entry]),
    report: (event) => post({ t: 'lock-event', ...event }),
    // The main thread first (in order with the path-lock release that follows), then the peers.
    changed: () => {
      post({ t: 'user-locks', locks: userLocks.list() })
      lockChanges.changed()
    },
    warn,
  })
  const lockChanges = new LockChanges(() => userLocks.list())
  const setAside = new SetAside({
    store: new SetAsideStore(db),
    retry: (peer, entries, generation) =>
      applier.applyBatch(retrySource(peer, generation), entries),
    freeBytes: () => freeBytes(data.root),
    report: (e) => post({ t: 'log', op: e.op, name: e.name, peer: e.peer, detail: e.detail }),
  })
  // A change here may unblock what waits: the same name, a folder above it, a file below it.
  index.onStored((entries) => setAside.nudge(entries.map((e) => e.name)))
  const applier: Applier = new Applier({
    self: data.self,
    index,
    store,
    scanner,
    busy,
    userLocks,
    lock: lockNames,
    rootPresent: async () => {
      if (await directoryExists(data.root)) return true
      refuse(`the data directory ${data.root} has vanished`)
      return false
    },
    bulk,
    setAside,
    report: (r) =>
      post({
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
  const exchange = createExchangeServer({
    self: data.self,
    index,
    store,
    refusal: () => (statusOf.state === 'refused' ? (statusOf.reason ?? 'refused') : null),
    onClockReport: (peer, skewMs) => clockWarning(peer, skewMs),
    locks: lockChanges,
    warn,
  })
  exchange.server.listen(data.syncPort, data.host)
  await once(exchange.server, 'listening')
  const syncPort = (exchange.server.address() as net.AddressInfo).port

  const links = data.peers.map(
    (address) =>
      new PeerLink({
        address,
        self: data.self,
        index,
        applier,
        onUp: (peer) => post({ t: 'log', op: 'peer-up', name: null, peer }),
        onDown: (peer, reason) =>
          post({ t: 'log', op: 'peer-down', name: null, peer, detail: reason }),
        onClockSkew: (peer, skewMs) => clockWarning(peer, skewMs),
        onLocks: (peer, locks) => lockStore.replacePeerLocks(peer, locks),
        onNewEpoch: (peer) => setAside.forgetPeer(peer),
        warn,
      }),
  )
  /**
   * A set-aside retry's source: fetches through the link to that peer (a peer no longer
   * configured cannot be fetched from), and says which generation of the peer it retries.
   */
  function retrySource(peer: string, generation: number): PeerSource {
    const link = links.find((l) => l.name === peer)
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

  function refuse(reason: string): void {
    if (statusOf.state === 'refused') return
    statusOf.state = 'refused'
    statusOf.reason = reason
    warn(
      `sync refused (ERR_SYNC_REFUSED): ${reason}; not propagating a mass deletion. Restore the files and restart, ` +
        `or stop the server and remove ${data.stateDir}/index.db (with its -wal and -shm files) to take every file from the peers.`,
    )
    scanner.stop()
    bulk.stop()
    applier.stop()
    setAside.stop()
    for (const link of links) link.stop()
    exchange.dropConnections()
    void running.watcher?.close()
  }

  port.on('message', (m: ToSync) => {
    if (m.t === 'lock-granted') lockWaits.get(m.req)?.resolve(m.token)
    else if (m.t === 'lock-failed') lockWaits.get(m.req)?.reject(TandemError.fromWire(m.error))
    if (m.t === 'lock-granted' || m.t === 'lock-failed') lockWaits.delete(m.req)
    if (m.t === 'status')
      post({
        t: 'status',
        req: m.req,
        peers: links.map((l) => l.status()),
        sync: {
          ...statusOf,
          files: index.liveCount(),
          seq: index.seq,
          setAside: setAside.list(),
        },
      })
    if (m.t === 'published') scanner.remember(m.name, m.sha256, m.identity)
    if (m.t === 'tree-change') scanner.expect(m.change)
    if (m.t === 'wrote') scanner.wrote(m.states)
    if (m.t === 'request-done') scanner.requestDone(m.request, m.names)
    if (m.t === 'user-lock') void userLockRequest(m)
    if (m.t === 'stop') void stop()
  })

  async function userLockRequest(m: Extract<ToSync, { t: 'user-lock' }>): Promise<void> {
    try {
      const value =
        m.op === 'lock'
          ? await userLocks.lock(m.name, m.owner, m.ttlSeconds)
          : await userLocks.unlock(m.name, m.owner, m.force ?? false)
      post({ t: 'user-lock-done', req: m.req, ok: true, value })
    } catch (err) {
      post({ t: 'user-lock-done', req: m.req, ok: false, error: toWireError(err) })
    }
  }

  async function stop(): Promise<void> {
    userLocks.stop()
    setAside.stop()
    scanner.stop()
    bulk.stop()
    applier.stop()
    for (const link of links) link.stop()
    exchange.server.close()
    exchange.dropConnections()
    await running.watcher?.close()
    index.markClean()
    db.close()
    post({ t: 'stopped' })
    flush()
    port.close()
  }

  userLocks.load()
  post({ t: 'user-locks', locks: userLocks.list() })
  post({ t: 'ready', syncPort })
  // The inventory: what changed while the server was down.
  // At startup an emptied directory is refused whatever the count: it changed while nobody
  // watched (a wiped disk, a failed mount), and the index is all that remembers the files.
  const emptied = await scanner.emptied()
  if (emptied) return refuse(emptied.reason)
  scanner.recover(data.recentRequests ?? []) // rids whose entry a crash may have kept from them
  running.watcher = new Watcher({
    root: data.root,
    // A change on disk may unblock what is set aside (a symlink or a folder in the way removed).
    scanner: {
      hint: (name) => {
        scanner.hint(name)
        if (name !== '') setAside.nudge([name])
      },
    },
    rescanIntervalMs: data.rescanIntervalMs,
    onRootLost: () => refuse(`the data directory ${data.root} has vanished`),
    warn,
  })
  // Watches first, then the inventory: a change during either is seen by one or the other.
  await running.watcher.ready
  await scanner.inventory()
  if (statusOf.state === 'refused') return
  statusOf.state = 'running'
  info(`sync: ${index.liveCount()} file(s) indexed; file-exchange on ${data.host}:${syncPort}`)
  await userLocks.begin()
  for (const link of links) link.start()
  setAside.start()
}

/** Path locks from the main thread's table (write by default); resolves to their release. */
function lockNames(names: readonly string[], mode?: 'read'): Promise<() => void> {
  const req = ++lockReq
  return new Promise((resolve, reject) => {
    lockWaits.set(req, {
      resolve: (token) => resolve(() => post({ t: 'unlock', token })),
      reject,
    })
    post(mode ? { t: 'lock', req, names: [...names], mode } : { t: 'lock', req, names: [...names] })
  })
}

function clockWarning(peer: string, skewMs: number): void {
  post({ t: 'log', op: 'clock-skew', name: null, peer, detail: String(Math.round(skewMs)) })
}

main().catch((err: unknown) => {
  post({ t: 'failed', error: err instanceof Error ? (err.stack ?? err.message) : String(err) })
})
