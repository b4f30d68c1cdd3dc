/**
 * Messages between servers. On the control port a peer says hello with role
 * 'peer' and learns the file-exchange port and the server's clock from the welcome. On the
 * file-exchange port a server opens two kinds of channel to a peer:
 * - 'index': `subscribe` once; the peer answers with batches of index entries changed since then,
 *   then keeps pushing new ones, with heartbeats between; the subscriber acknowledges (`ack`)
 *   what it has applied;
 * - 'content': pipelined `fetch` requests, answered in order, each by a header and the body
 *   (data frames, then an end frame with the SHA-256), or by an error.
 */
import type { WireError } from './errors.js'
import type { MessageCheck } from './handshake.js'
import type { PeerWelcome } from './handshake.js'
import { normalizeName } from './names.js'

/*
 * Checked by hand, not with zod: the sync worker reads these, and zod costs every thread that
 * loads it ~6 MiB resident (ARCHITECTURE.md, "Memory"). Each check accepts exactly what the zod
 * schemas it replaced did (test/protocol/peer-checks.test.ts holds them and shows it): numbers
 * are finite, integers safe ones, a strict object refuses unknown keys, a plain one ignores them.
 */

type Fields = Record<string, unknown>

const isObject = (v: unknown): v is Fields =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0
const isText = (v: unknown, min: number, max: number): v is string =>
  typeof v === 'string' && v.length >= min && v.length <= max
const isServerName = (v: unknown): v is string => isText(v, 1, 64)
const isSha256Hex = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v)
const isName = (v: unknown): v is string => isText(v, 1, 8192)
/** A name exactly as normalizeName leaves it: peers' names key the index and the locks. */
const isCanonicalName = (v: unknown): v is string => isName(v) && canonical(v)
const optional = (v: unknown, check: (v: unknown) => boolean): boolean =>
  v === undefined || check(v)
const nullish = (v: unknown, check: (v: unknown) => boolean): boolean =>
  v === undefined || v === null || check(v)
/** Every own key of `m` is one of `keys` (a strict object's rule). */
const onlyKeys = (m: Fields, keys: ReadonlySet<string>): boolean => {
  for (const key in m) if (Object.hasOwn(m, key) && !keys.has(key)) return false
  return true
}

function canonical(n: string): boolean {
  try {
    return normalizeName(n) === n
  } catch {
    return false
  }
}

/** A JSON value (zod's z.json()): finite numbers, and arrays and objects of JSON values. */
function isJson(v: unknown): boolean {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true
  if (typeof v === 'number') return Number.isFinite(v)
  if (Array.isArray(v)) return v.every(isJson)
  if (typeof v !== 'object') return false
  for (const key in v) if (Object.hasOwn(v, key) && !isJson((v as Fields)[key])) return false
  return true
}

/** `{ code, message }` (other fields dropped, as the plain object schema did). */
function wireError(v: unknown): WireError | undefined {
  if (!isObject(v) || typeof v.code !== 'string' || typeof v.message !== 'string') return undefined
  return { code: v.code, message: v.message } as WireError
}

/**
 * The client request that made a version (a rid the cluster applies at most once), with the answer
 * it got: a member that receives the entry answers a replay of that rid with it.
 */
export interface EntryRequest {
  /** A client's CLIENT:SEQUENCE, or an HTTP request's `http-CLIENT:KEY` (its Idempotency-Key). */
  rid: string
  op: 'upload' | 'create' | 'write' | 'append' | 'rename' | 'delete'
  /** What the request named (`name`, or for a rename both names joined by U+001F): a rid reused for another is refused. */
  target: string
  /** The operation's answer (JSON), as the client got it. */
  result: Record<string, JsonValue>
  /** When the server that applied it did (ms since the epoch). */
  at: number
}
export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

const ENTRY_REQUEST_KEYS: ReadonlySet<string> = new Set(['rid', 'op', 'target', 'result', 'at'])
const OPS: ReadonlySet<unknown> = new Set([
  'upload',
  'create',
  'write',
  'append',
  'rename',
  'delete',
])
const RID = /^[\s\S]{1,200}:[A-Za-z0-9._~+/=-]{1,128}$/

function isEntryRequest(v: unknown): v is EntryRequest {
  return (
    isObject(v) &&
    onlyKeys(v, ENTRY_REQUEST_KEYS) &&
    isText(v.rid, 0, 340) &&
    RID.test(v.rid) &&
    OPS.has(v.op) &&
    isText(v.target, 1, 16_500) &&
    isObject(v.result) &&
    isJson(v.result) &&
    isNumber(v.at) &&
    v.at >= 0
  )
}

export interface WireFileEntry {
  name: string
  size: number
  mtime: number
  /** The content's SHA-256 (hex): set exactly for a live version, null for a tombstone. */
  hash: string | null
  deleted: boolean
  version: Record<string, number>
  origin: string
  seq: number
  renamedFrom?: string | null
  request?: EntryRequest | null
  /** The file's placement id: set when its name was first created, kept through renames. */
  fileId?: string | null
  /** The server where the file was first created (placement keeps a copy there). */
  creator?: string | null
  /** The sender holds this version's content (--replicas: not every member does). */
  held?: boolean
}

/** What the entry check returns: the entry, or why it is refused (the peer link warns with it). */
export type EntryChecked =
  { success: true; data: WireFileEntry } | { success: false; reason: string }

const ENTRY_KEYS: ReadonlySet<string> = new Set([
  'name',
  'size',
  'mtime',
  'hash',
  'deleted',
  'version',
  'origin',
  'seq',
  'renamedFrom',
  'request',
  'fileId',
  'creator',
  'held',
])
const FILE_ID = /^[A-Za-z0-9_-]{1,64}$/
const MAX_COUNTER = Number.MAX_SAFE_INTEGER - 1

function isVersion(v: unknown): boolean {
  if (!isObject(v)) return false
  for (const key in v) {
    if (!Object.hasOwn(v, key)) continue
    const n = v[key]
    if (!isServerName(key) || !isCount(n) || n > MAX_COUNTER) return false
  }
  return true
}

/** The first field of an entry that is wrong, or undefined. */
function entryFault(e: Fields): string | undefined {
  if (!onlyKeys(e, ENTRY_KEYS)) return 'unknown field'
  if (!isName(e.name)) return 'invalid name'
  if (!canonical(e.name)) return 'not a canonical file name'
  if (!isCount(e.size)) return 'invalid size'
  if (!isNumber(e.mtime) || e.mtime < 0) return 'invalid mtime'
  if (e.hash !== null && !isSha256Hex(e.hash)) return 'invalid hash'
  if (typeof e.deleted !== 'boolean') return 'invalid deleted'
  if (!isVersion(e.version)) return 'invalid version'
  if (!isServerName(e.origin)) return 'invalid origin'
  if (!isCount(e.seq)) return 'invalid seq'
  if (!nullish(e.renamedFrom, isName)) return 'invalid renamedFrom'
  if (!nullish(e.renamedFrom, (n) => canonical(n as string))) return 'not a canonical file name'
  if (!nullish(e.request, isEntryRequest)) return 'invalid request'
  if (!nullish(e.fileId, (v) => typeof v === 'string' && FILE_ID.test(v))) return 'invalid fileId'
  if (!nullish(e.creator, isServerName)) return 'invalid creator'
  if (!optional(e.held, (v) => typeof v === 'boolean')) return 'invalid held'
  // A live version has content, a tombstone has none.
  if (e.deleted !== (e.hash === null)) return 'hash must be set exactly for live entries'
  return undefined
}

/** One index entry from a peer (canonical names, consistent fields). */
export const fileEntrySchema = {
  safeParse(value: unknown): EntryChecked {
    if (!isObject(value)) return { success: false, reason: 'not an object' }
    const reason = entryFault(value)
    return reason === undefined
      ? { success: true, data: value as unknown as WireFileEntry }
      : { success: false, reason }
  },
}

/** A user lock a server holds, as it tells its peers (their listings show it). */
export interface PeerLock {
  name: string
  owner: string
  since: number
  expiresAt: number | null
  queued: number
}

const LOCK_KEYS: ReadonlySet<string> = new Set(['name', 'owner', 'since', 'expiresAt', 'queued'])

function isPeerLock(v: unknown): v is PeerLock {
  return (
    isObject(v) &&
    onlyKeys(v, LOCK_KEYS) &&
    isCanonicalName(v.name) &&
    isText(v.owner, 1, 128) &&
    isNumber(v.since) &&
    (v.expiresAt === null || isNumber(v.expiresAt)) &&
    isCount(v.queued)
  )
}

// The peer-hello, peer-welcome and the control port's PeerSyncInfo live in handshake.ts.

export type PeerRequest =
  /** The last sequence number applied from this epoch (0 for everything). */
  | { type: 'subscribe'; since: number; epoch: string | null }
  | { type: 'fetch'; id: number; name: string; hash: string }
  /**
   * The subscriber applied (or set aside) everything up to `seq` of what the index channel sent:
   * the sender's `status` counts what a peer has not acknowledged as its backlog.
   */
  | { type: 'ack'; seq: number }
  /** The subscriber found our clocks apart: shown on this server's console too. */
  | { type: 'clock'; skewMs: number }

const keys = (...names: string[]): ReadonlySet<string> => new Set(['type', ...names])
const SUBSCRIBE_KEYS = keys('since', 'epoch')
const FETCH_KEYS = keys('id', 'name', 'hash')
const ACK_KEYS = keys('seq')
const CLOCK_KEYS = keys('skewMs')

function isPeerRequest(m: Fields): boolean {
  switch (m.type) {
    case 'subscribe':
      return (
        onlyKeys(m, SUBSCRIBE_KEYS) &&
        isCount(m.since) &&
        (m.epoch === null || isText(m.epoch, 0, 64))
      )
    case 'fetch':
      return onlyKeys(m, FETCH_KEYS) && isCount(m.id) && isName(m.name) && isSha256Hex(m.hash)
    case 'ack':
      return onlyKeys(m, ACK_KEYS) && isCount(m.seq)
    case 'clock':
      return onlyKeys(m, CLOCK_KEYS) && isNumber(m.skewMs)
    default:
      return false
  }
}

export const peerRequestSchema: MessageCheck<PeerRequest> = {
  safeParse: (value) =>
    isObject(value) && isPeerRequest(value)
      ? { success: true, data: value as unknown as PeerRequest }
      : { success: false },
}

export type PeerPush =
  | PeerWelcome
  | { type: 'entries'; epoch: string; entries: WireFileEntry[]; seq: number }
  /** Each second; `clients`: the clients the sender serves now (absent from older servers). */
  | { type: 'heartbeat'; time: number; seq: number; clients?: number }
  /** Every user lock the sender holds now (after the catch-up, and on each change). */
  | { type: 'locks'; locks: PeerLock[] }
  | { type: 'content'; id: number; ok: true; size: number; mtime: number }
  | { type: 'content'; id: number; ok: false; error: WireError }
  | { type: 'error'; error: WireError }

/** A push as read: the entries are still to be checked one by one, a content answer's fields loosely. */
export type ReadPush =
  | PeerWelcome
  /** Checked one by one (fileEntrySchema): one bad entry is dropped, not the whole batch. */
  | { type: 'entries'; epoch: string; entries: unknown[]; seq: number }
  | { type: 'heartbeat'; time: number; seq: number; clients?: number }
  | { type: 'locks'; locks: PeerLock[] }
  | {
      type: 'content'
      id: number
      ok: boolean
      size?: number
      mtime?: number
      error?: WireError
    }
  | { type: 'error'; error: WireError }

const isReplicas = (v: unknown): boolean =>
  Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= 64

/** The push `m` as read (unknown fields ignored; error objects cut to code and message), or undefined. */
function readPush(m: Fields): ReadPush | undefined {
  switch (m.type) {
    case 'peer-welcome':
      return isServerName(m.server) &&
        typeof m.epoch === 'string' &&
        isNumber(m.time) &&
        optional(m.replicas, isReplicas)
        ? (m as unknown as PeerWelcome)
        : undefined
    case 'entries':
      return typeof m.epoch === 'string' && Array.isArray(m.entries) && isNumber(m.seq)
        ? (m as unknown as ReadPush)
        : undefined
    case 'heartbeat':
      return isNumber(m.time) &&
        isNumber(m.seq) &&
        optional(m.clients, (c) => isCount(c) && (c as number) <= 1_000_000)
        ? (m as unknown as ReadPush)
        : undefined
    case 'locks':
      return Array.isArray(m.locks) && m.locks.length <= 100_000 && m.locks.every(isPeerLock)
        ? (m as unknown as ReadPush)
        : undefined
    case 'content': {
      if (
        !isNumber(m.id) ||
        typeof m.ok !== 'boolean' ||
        !optional(m.size, isNumber) ||
        !optional(m.mtime, isNumber)
      )
        return undefined
      if (m.error === undefined) return m as unknown as ReadPush
      const error = wireError(m.error)
      return error ? ({ ...m, error } as unknown as ReadPush) : undefined
    }
    case 'error': {
      const error = wireError(m.error)
      return error ? { type: 'error', error } : undefined
    }
    default:
      return undefined
  }
}

export const peerPushSchema: MessageCheck<ReadPush> = {
  safeParse(value) {
    const data = isObject(value) ? readPush(value) : undefined
    return data ? { success: true, data } : { success: false }
  },
}
