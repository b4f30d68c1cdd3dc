/**
 * The operations layer (src/server/ops/) driven in-process, without a server, sockets or
 * threads: real parts in a temp dir — a FileStore on a temp root, a real LockManager (timers
 * injectable), a real ChangeLog on a temp SQLite database — and, for what the sync worker would
 * provide (it does not run here), plain in-memory data the test sets: the peers' holdings, the
 * user locks, the hashes the index knows.
 *
 * `context(clientId)` is an OpsContext as the binary session's would be, with the main thread's
 * services answered here the way net/session-bridge.ts answers them: locks from the LockManager
 * and the same user-lock refusal (locks/user-lock-refusal.ts), log lines into the change log,
 * errors crossing as WireErrors. `runBody` feeds a body to BodyReceiver as a session does.
 */
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import {
  Limits,
  PROTOCOL_VERSION,
  TandemError,
  normalizeName,
  toWireError,
  type Holder,
  type LockResult,
  type LogEntry,
  type RequestBody,
  type StatusResult,
  type UnlockResult,
  type UserLock,
} from '../../src/protocol/index.js'
import type { Holding } from '../../src/server/index/peer-holdings.js'
import type { TreeChange } from '../../src/server/index/tree-change.js'
import {
  LockManager,
  type LockMode,
  type Release,
  type Timers,
} from '../../src/server/locks/lock-manager.js'
import { userLockRefusal, type LockPurpose } from '../../src/server/locks/user-lock-refusal.js'
import type { BodyRequest, Committed } from '../../src/server/ops/body.js'
import { BodyReceiver } from '../../src/server/ops/body-receiver.js'
import type { Conditions } from '../../src/server/ops/conditions.js'
import type {
  IndexView,
  OpsConfig,
  OpsContext,
  UserLockRequest,
} from '../../src/server/ops/context.js'
import { ChangeLog, type LogInput } from '../../src/server/state/change-log.js'
import { openDatabase, type Db } from '../../src/server/state/database.js'
import { FileStore } from '../../src/server/storage/file-store.js'
import type { FileIdentity } from '../../src/server/storage/temp-file.js'
import { registerCleanup } from './cleanup.js'
import { tempDir } from './temp-dir.js'

export interface OpsHarnessOptions {
  /** This server's name (default 'A'). */
  serverName?: string
  /** How long a request waits for another's path lock (default 2000 ms). */
  lockTimeoutMs?: number
  /** The LockManager's timers (default: the real ones). */
  timers?: Timers
  /** The clock for user locks and the change log (default Date.now). */
  now?: () => number
  /**
   * Answers user locks and unlocks instead of the in-memory table (the request is recorded
   * either way).
   */
  userLock?: (request: UserLockRequest, client: string) => Promise<LockResult | UnlockResult>
  /** Answers `status` instead of the harness's own. */
  status?: () => Promise<StatusResult>
  /** Answers a `treeChange` (default: at once); the change is recorded either way. */
  treeChange?: (change: TreeChange) => Promise<void>
}

/** What the sync worker's index would hold: set it freely. */
export interface IndexData {
  /** Live files the peers announced. */
  holdings: Holding[]
  /** User locks: this server's (server = its name) and the peers'. */
  userLocks: UserLock[]
  /** Hashes the index knows, each for the file identity it was indexed with. */
  hashes: Map<string, { sha256: string; identity: FileIdentity }>
  /**
   * Partial replication: names the index lists live with no copy on this disk, each with the
   * members that hold it.
   */
  elsewhere: Map<string, Holder[]>
  /** Where a client reaches each member (the members table), by name. */
  members: Map<string, Holder>
}

/** A path-lock request the main thread granted or refused. */
export interface LockRequestRecord {
  names: string[]
  mode: LockMode
  client: string
  purpose: LockPurpose | undefined
  outcome: 'granted' | string
}

export interface OpsHarness {
  readonly root: string
  readonly stateDir: string
  readonly config: OpsConfig
  readonly lockTimeoutMs: number
  readonly store: FileStore
  readonly locks: LockManager
  readonly db: Db
  readonly changeLog: ChangeLog
  readonly data: IndexData
  readonly index: IndexView
  /** Every user lock or unlock asked for, in order. */
  readonly userLockRequests: (UserLockRequest & { client: string })[]
  /** Every path-lock request, with what the main thread answered. */
  readonly lockRequests: LockRequestRecord[]
  /** Every `published` notice (what the sync worker would be told). */
  readonly publications: { name: string; sha256: string; identity: FileIdentity }[]
  /** Every `treeChange` notice (a folder's delete or rename, told to the sync worker). */
  readonly treeChanges: TreeChange[]
  /** Every `log` call, recorded in the change log or not (the console's lines). */
  readonly consoleLines: (LogInput & { record: boolean })[]

  /** An OpsContext for the client `clientId` (default 'alice'). */
  context(clientId?: string): OpsContext
  /** The main thread's path lock, as a session bridge takes it for `client`. */
  lock(names: string[], mode: LockMode, client: string, purpose?: LockPurpose): Promise<Release>
  /** A user lock or unlock by `client`, as the sync worker would do it. */
  userLock(request: UserLockRequest, client: string): Promise<LockResult | UnlockResult>
  /** An operation done: into the change log when `record` (ServerCore.record). */
  record(entry: LogInput, record: boolean): void
  status(): Promise<StatusResult>

  /** Write a file straight to the disk, as another program would. */
  writeFile(name: string, content: string | Uint8Array, mtimeMs?: number): void
  readFile(name: string): Buffer
  exists(name: string): boolean
  /** Say the index knows `sha256` for the file `name` as it is on disk now. */
  setKnownHash(name: string, sha256: string): void
  /** Hold a user lock on `name` for `owner`, here or (with `server`) at a peer. */
  holdUserLock(name: string, owner: string, server?: string): UserLock
  /** A peer announces that it holds `name`. */
  peerHolds(peer: string, name: string, size?: number, mtime?: number, hash?: string | null): void
  /** The change log's entries, oldest first (pending ones flushed). */
  logEntries(): LogEntry[]
}

/** Real parts in a temp dir, removed with the test. */
export function createOpsHarness(options: OpsHarnessOptions = {}): OpsHarness {
  const base = tempDir('tandem-ops-')
  const root = path.join(base, 'root')
  const stateDir = path.join(base, 'state')
  mkdirSync(root)
  const serverName = options.serverName ?? 'A'
  const lockTimeoutMs = options.lockTimeoutMs ?? 2_000
  const now = options.now ?? Date.now
  const config: OpsConfig = { serverName, root }
  const store = new FileStore(root)
  const locks = new LockManager(options.timers)
  const db = openDatabase(stateDir)
  const changeLog = new ChangeLog(
    db,
    serverName,
    (err) => {
      throw err
    },
    now,
  )
  const aborts: AbortController[] = []
  registerCleanup(() => {
    for (const abort of aborts) abort.abort()
    changeLog.flush()
    db.close()
  })

  const data: IndexData = {
    holdings: [],
    userLocks: [],
    hashes: new Map(),
    elsewhere: new Map(),
    members: new Map(),
  }
  const userLockRequests: OpsHarness['userLockRequests'] = []
  const lockRequests: LockRequestRecord[] = []
  const publications: OpsHarness['publications'] = []
  const treeChanges: TreeChange[] = []
  const consoleLines: OpsHarness['consoleLines'] = []

  const ownLocks = (): UserLock[] =>
    data.userLocks
      .filter((l) => l.server === serverName)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const peerLocks = (): UserLock[] =>
    data.userLocks
      .filter((l) => l.server !== serverName && (l.expiresAt === null || l.expiresAt > now()))
      .sort((a, b) =>
        a.server !== b.server ? (a.server < b.server ? -1 : 1) : a.name < b.name ? -1 : 1,
      )

  // As peer-holdings.ts reads index.db: this server's locks first, a peer's past its time hidden.
  const index: IndexView = {
    holdings: () => data.holdings.map((h) => ({ ...h })),
    locks: () => [...ownLocks(), ...peerLocks()].map((l) => ({ ...l })),
    lockOwner: (name) => ownLocks().find((l) => l.name === name)?.owner,
    knownHash: (name, identity) => {
      const known = data.hashes.get(name)
      if (!known) return undefined
      const same =
        known.identity.size === identity.size &&
        known.identity.mtimeMs === identity.mtimeMs &&
        known.identity.ino === identity.ino
      return same ? known.sha256 : undefined
    },
    indexedHashes: () => new Map([...data.hashes].map(([name, known]) => [name, { ...known }])),
    heldElsewhere: (name) => data.elsewhere.get(name)?.map((h) => ({ ...h })),
    notHeldUnder: (folder) =>
      [...data.elsewhere.keys()]
        .filter((name) => folder === '' || name.startsWith(`${folder}/`))
        .sort(),
    member: (name) => {
      const at = data.members.get(name)
      return at && { ...at }
    },
  }

  const lock = async (
    names: string[],
    mode: LockMode,
    client: string,
    purpose?: LockPurpose,
  ): Promise<Release> => {
    const record: LockRequestRecord = { names, mode, client, purpose, outcome: 'granted' }
    lockRequests.push(record)
    try {
      const release = await locks.acquire(names, mode, lockTimeoutMs)
      // As the session bridge: checked holding the write lock.
      const refusal =
        mode === 'write' &&
        userLockRefusal(
          new Map(ownLocks().map((l) => [l.name, l])),
          names,
          client,
          serverName,
          purpose,
        )
      if (refusal) {
        release()
        throw refusal
      }
      return release
    } catch (err) {
      record.outcome = toWireError(err).code
      throw err
    }
  }

  const userLock = async (
    request: UserLockRequest,
    client: string,
  ): Promise<LockResult | UnlockResult> => {
    userLockRequests.push({ ...request, client })
    if (options.userLock) return options.userLock(request, client)
    const name = request.name
    const own = data.userLocks.find((l) => l.name === name && l.server === serverName)
    if (request.op === 'lock') {
      if (own && own.owner !== client)
        throw new TandemError('ERR_LOCKED', `'${name}' is locked by ${own.owner} at ${serverName}`)
      const theirs = peerLocks().find((l) => l.name === name)
      if (theirs)
        throw new TandemError(
          'ERR_LOCKED',
          `'${name}' is locked by ${theirs.owner} at ${theirs.server}`,
        )
      const file = await store.resolve(name, { follow: false })
      if (!(await store.exists(file)))
        throw new TandemError('ERR_NOT_FOUND', `no file '${name}' at ${serverName}`)
      const held: UserLock = {
        name,
        server: serverName,
        owner: client,
        since: own?.since ?? now(),
        expiresAt: request.ttlSeconds === undefined ? null : now() + request.ttlSeconds * 1000,
        queued: own?.queued ?? 0,
      }
      data.userLocks = [...data.userLocks.filter((l) => l !== own), held]
      return { ...held }
    }
    if (!own) throw new TandemError('ERR_NOT_FOUND', `'${name}' is not locked at ${serverName}`)
    if (own.owner !== client && !request.force)
      throw new TandemError(
        'ERR_NOT_OWNER',
        `'${name}' is locked by ${own.owner} at ${serverName}, not by ${client} (unlock --force releases it)`,
      )
    data.userLocks = data.userLocks.filter((l) => l !== own)
    return { name, owner: own.owner, forced: own.owner !== client, applied: 0, conflicts: 0 }
  }

  const record = (entry: LogInput, keep: boolean): void => {
    consoleLines.push({ ...entry, record: keep })
    if (keep) changeLog.append(entry)
  }

  const startedAt = now()
  const status = async (): Promise<StatusResult> => {
    if (options.status) return options.status()
    return {
      server: {
        name: serverName,
        version: 'harness',
        protocol: PROTOCOL_VERSION,
        pid: process.pid,
        startedAt,
        uptimeMs: now() - startedAt,
        root,
        host: '127.0.0.1',
        port: 0,
      },
      clients: { connected: 0, max: 9, list: [] },
      peers: [],
      members: [],
      sync: { state: 'stopped' },
      locks: index.locks(),
      pathLocks: locks.snapshot(),
    }
  }

  /** Errors cross the thread boundary as WireErrors in the real server. */
  const crossing = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call()
    } catch (err) {
      throw TandemError.fromWire(toWireError(err))
    }
  }

  const context = (clientId = 'alice'): OpsContext => {
    const abort = new AbortController()
    aborts.push(abort)
    return {
      config,
      store,
      client: { id: clientId },
      index,
      signal: abort.signal,
      lock: async (names, mode, purpose) => {
        const release = await crossing(() => lock(names, mode, clientId, purpose))
        return () => release()
      },
      log: (entry, keep) => record({ ...entry, client: clientId }, keep),
      published: (name, sha256, identity) => publications.push({ name, sha256, identity }),
      treeChange: async (change) => {
        treeChanges.push(change)
        await options.treeChange?.(change)
      },
      readLog: (query) => crossing(async () => changeLog.query(query)),
      userLock: (request) => crossing(() => userLock(request, clientId)),
      status: () => crossing(status),
    }
  }

  const onDisk = (name: string): string => path.join(root, ...normalizeName(name).split('/'))

  return {
    root,
    stateDir,
    config,
    lockTimeoutMs,
    store,
    locks,
    db,
    changeLog,
    data,
    index,
    userLockRequests,
    lockRequests,
    publications,
    treeChanges,
    consoleLines,
    context,
    lock,
    userLock,
    record,
    status,
    writeFile(name, content, mtimeMs) {
      const file = onDisk(name)
      mkdirSync(path.dirname(file), { recursive: true })
      writeFileSync(file, content)
      if (mtimeMs !== undefined) utimesSync(file, new Date(mtimeMs), new Date(mtimeMs))
    },
    readFile: (name) => readFileSync(onDisk(name)),
    exists: (name) => existsSync(onDisk(name)),
    setKnownHash(name, sha256) {
      const st = statSync(onDisk(name))
      data.hashes.set(normalizeName(name), {
        sha256,
        identity: { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino },
      })
    },
    holdUserLock(name, owner, server = serverName) {
      const held: UserLock = {
        name: normalizeName(name),
        server,
        owner,
        since: now(),
        expiresAt: null,
        queued: 0,
      }
      data.userLocks = [
        ...data.userLocks.filter((l) => !(l.name === held.name && l.server === server)),
        held,
      ]
      return held
    },
    peerHolds(peer, name, size = 1, mtime = now(), hash = null) {
      data.holdings.push({ peer, name: normalizeName(name), size, mtime, hash })
    },
    logEntries: () => changeLog.recent(100_000),
  }
}

/** A body request as a test writes it: the id is optional. */
export type BodyInput = {
  [K in BodyRequest['op']]: RequestBody<K> & { id?: number }
}[BodyRequest['op']]

export interface BodyOptions {
  /** If-Match / If-None-Match, checked under the lock at commit. */
  conditions?: Conditions
  /** The SHA-256 the sender gives in its end frame (default: the body's own; null: none). */
  sha256?: Buffer | null
  /** Bytes per chunk handed to the receiver (default Limits.dataChunk). */
  chunkSize?: number
  /** Waits for earlier commits on the name (the session's pipeline). */
  settled?: (name: string) => Promise<void>
}

let nextBodyId = 1

/**
 * Run a body operation as a session does: BodyReceiver.open, then each chunk added and released
 * (the chunk's memory is overwritten once released, as a recycled transfer buffer would be), then
 * finish with the end frame's SHA-256. Resolves to what the commit did; rejects with its error.
 */
export async function runBody(
  ctx: OpsContext,
  input: BodyInput,
  body: string | Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  options: BodyOptions = {},
): Promise<Committed> {
  const req = { ...input, id: input.id ?? nextBodyId++ } as BodyRequest
  const receiver = BodyReceiver.open(ctx, req, options.settled, options.conditions)
  const chunkSize = options.chunkSize ?? Limits.dataChunk
  const hash = createHash('sha256')
  try {
    for await (const piece of chunks(body, chunkSize)) {
      hash.update(piece)
      const chunk = Buffer.from(piece) // the session's chunk: its own memory, recycled after
      receiver.add(chunk)
      await receiver.releaseChunk()
      chunk.fill(0xee)
    }
  } catch (err) {
    await receiver.discard()
    throw err
  }
  const sha256 = options.sha256 === undefined ? hash.digest() : (options.sha256 ?? undefined)
  return receiver.finish(ctx, sha256)
}

async function* chunks(
  body: string | Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  size: number,
): AsyncIterable<Uint8Array> {
  if (typeof body === 'string' || body instanceof Uint8Array) {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body
    for (let offset = 0; offset < bytes.length; offset += size)
      yield bytes.subarray(offset, offset + size)
    return
  }
  for await (const piece of body as AsyncIterable<Uint8Array>) {
    for (let offset = 0; offset < piece.length; offset += size)
      yield piece.subarray(offset, offset + size)
  }
}

/** The hex SHA-256 of `content`. */
export function sha256Hex(content: string | Uint8Array): string {
  return createHash('sha256').update(content).digest('hex')
}
