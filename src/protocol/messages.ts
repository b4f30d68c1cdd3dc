/**
 * Control messages: their schemas (validated before use) and the shapes of results. Requests carry
 * a numeric `id` that the response echoes; a client may pipeline requests, and the server answers
 * them in order. Requests whose op is in BODY_OPS are followed by the body: data frames, then an
 * end frame with the body's SHA-256. A download's success response is followed the same way.
 */
import { z } from 'zod'
import { TandemError, type WireError } from './errors.js'
import type { Welcome } from './handshake.js'

const requestId = z.number().int().nonnegative()
const name = z.string().min(1).max(8192)
/**
 * A mutating request's identity across reconnects and servers: the client id (any text), a colon, and a
 * sequence number the client never reuses (`c-3f2a:17`). A cluster applies a request of one
 * `rid` at most once; a replay (the same rid again, at any member) answers the original result.
 */
export const ridSchema = z
  .string()
  .max(200)
  .regex(/^[\s\S]{1,128}:[0-9]{1,20}$/, 'a request id is CLIENT:SEQUENCE')
const rid = { rid: ridSchema.optional() }

/**
 * What lock and unlock act on: a name, or an index into the composite listing (sorted by name).
 * With an index the client sends the name it saw there (`expect`); when the listing has changed
 * so that the index names another file, the server answers ERR_LISTING_CHANGED.
 */
const lockTarget = {
  name: name.optional(),
  index: z.number().int().nonnegative().optional(),
  expect: name.optional(),
}
const oneTarget = (t: { name?: string | undefined; index?: number | undefined }): boolean =>
  (t.name === undefined) !== (t.index === undefined)
const ONE_TARGET = { message: 'give either a name or an index', path: ['name'] }

const requestSchemas = {
  list: z.strictObject({ id: requestId, op: z.literal('list') }),
  stat: z.strictObject({ id: requestId, op: z.literal('stat'), name }),
  download: z.strictObject({
    id: requestId,
    op: z.literal('download'),
    name,
    /**
     * What the bytes are for, as the change log tells it: 'read' for a look at the file (`cat`,
     * the menu's "show"), 'download' (the default) for a copy kept.
     */
    purpose: z.enum(['read', 'download']).optional(),
  }),
  upload: z.strictObject({
    id: requestId,
    op: z.literal('upload'),
    name,
    ...rid,
    /** Expected body size, when known: a mismatch fails with ERR_INTEGRITY. */
    size: z.number().int().nonnegative().optional(),
    /** Modification time to set on the stored file (ms since epoch). */
    mtime: z.number().nonnegative().optional(),
  }),
  create: z.strictObject({ id: requestId, op: z.literal('create'), name, ...rid }),
  write: z.strictObject({ id: requestId, op: z.literal('write'), name, ...rid }),
  append: z.strictObject({ id: requestId, op: z.literal('append'), name, ...rid }),
  rename: z.strictObject({ id: requestId, op: z.literal('rename'), from: name, to: name, ...rid }),
  delete: z.strictObject({
    id: requestId,
    op: z.literal('delete'),
    name,
    ...rid,
    /** Delete a folder and every file under it (without it, a folder is ERR_IS_DIRECTORY). */
    recursive: z.boolean().optional(),
  }),
  log: z.strictObject({
    id: requestId,
    op: z.literal('log'),
    limit: z.number().int().min(1).max(100_000).optional(),
    /** Keep sending new entries as `event` messages until the connection closes. */
    follow: z.boolean().optional(),
  }),
  status: z.strictObject({ id: requestId, op: z.literal('status') }),
  lock: z
    .strictObject({
      id: requestId,
      op: z.literal('lock'),
      ...lockTarget,
      ...rid,
      /** The lock ends by itself after this long (seconds); none: until unlocked. */
      ttlSeconds: z
        .number()
        .int()
        .min(1)
        .max(10 * 365 * 86_400)
        .optional(),
    })
    .refine(oneTarget, ONE_TARGET),
  unlock: z
    .strictObject({
      id: requestId,
      op: z.literal('unlock'),
      ...lockTarget,
      ...rid,
      /** Release a lock another client holds. */
      force: z.boolean().optional(),
    })
    .refine(oneTarget, ONE_TARGET),
  ping: z.strictObject({ id: requestId, op: z.literal('ping') }),
} as const

export type Operation = keyof typeof requestSchemas
export const OPERATIONS = Object.keys(requestSchemas) as Operation[]
export type Request = { [K in Operation]: z.infer<(typeof requestSchemas)[K]> }[Operation]
export type RequestOf<K extends Operation> = z.infer<(typeof requestSchemas)[K]>
/** A request as a caller writes it: everything but the id, which the connection assigns. */
export type RequestBody<K extends Operation> = Omit<RequestOf<K>, 'id'>

/** Operations whose request is followed by a body (data frames + end frame). */
export const BODY_OPS: ReadonlySet<Operation> = new Set(['upload', 'create', 'write', 'append'])

function isOperation(op: unknown): op is Operation {
  return typeof op === 'string' && Object.hasOwn(requestSchemas, op)
}

/**
 * Validate a decoded control message as a request. Throws ERR_UNKNOWN_OPERATION for an op this
 * server does not know and ERR_BAD_REQUEST for anything else malformed. The error carries the
 * request id when one could be read, so the answer can still be matched.
 */
export function parseRequest(raw: unknown): Request {
  if (typeof raw !== 'object' || raw === null)
    throw new RequestError(undefined, 'ERR_BAD_REQUEST', 'request is not an object')
  if (Array.isArray(raw))
    throw new RequestError(undefined, 'ERR_BAD_REQUEST', 'request is not an object')
  const record = raw as Record<string, unknown>
  const id =
    typeof record.id === 'number' && Number.isInteger(record.id) && record.id >= 0
      ? record.id
      : undefined
  // A missing or non-string op is a malformed request, not an operation this server lacks.
  if (typeof record.op !== 'string')
    throw new RequestError(id, 'ERR_BAD_REQUEST', 'request has no op')
  if (!isOperation(record.op)) {
    throw new RequestError(
      id,
      'ERR_UNKNOWN_OPERATION',
      `unknown operation ${JSON.stringify(record.op)}`,
    )
  }
  const parsed = requestSchemas[record.op].safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const where = issue?.path.length ? ` (${issue.path.join('.')})` : ''
    throw new RequestError(
      id,
      'ERR_BAD_REQUEST',
      `invalid ${record.op} request${where}: ${issue?.message ?? 'malformed'}`,
    )
  }
  return parsed.data as Request
}

/** A request-level validation failure, carrying the request id if it was readable. */
export class RequestError extends TandemError {
  constructor(
    readonly requestId: number | undefined,
    code: 'ERR_BAD_REQUEST' | 'ERR_UNKNOWN_OPERATION',
    message: string,
  ) {
    super(code, message)
  }
}

// ---- handshake: the hello and welcome live in handshake.ts (one module for every side) -------

// ---- server → client -------------------------------------------------------------------------

export type Response =
  | { type: 'response'; id: number; ok: true; result: unknown }
  | { type: 'response'; id: number; ok: false; error: WireError }

/** A connection-level error, sent just before the server closes the connection. */
export interface ConnectionError {
  type: 'error'
  error: WireError
}

export interface EventMessage {
  type: 'event'
  event: LogEntry
}

export type ServerMessage = Welcome | Response | ConnectionError | EventMessage

const wireErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  retryAfterMs: z.number().optional(),
  holders: z
    .array(
      z.object({
        name: z.string().max(255),
        address: z.string().max(300),
        http: z.string().max(300).optional(),
        up: z.boolean().optional(),
      }),
    )
    .max(64)
    .optional(),
})

/** `--replicas` in a welcome (handshake.ts checks it in a hello: isReplicas). */
const replicas = z.number().int().min(1).max(64)

export const welcomeSchema = z.object({
  type: z.literal('welcome'),
  server: z.object({ name: z.string(), version: z.string() }),
  sessionId: z.string(),
  // A malformed load is taken as none (the client then takes the server as it comes).
  load: z
    .object({ clients: z.number().int().nonnegative(), maxClients: z.number().int().positive() })
    .optional()
    .catch(undefined),
  sync: z
    .object({
      port: z.number(),
      time: z.number(),
      replicas: replicas.optional(),
      // Malformed placement figures are taken as unknown; a malformed --replicas is not.
      http: z.number().int().min(1).max(65535).nullable().optional().catch(undefined),
      capacity: z.number().int().min(1).optional().catch(undefined),
    })
    .optional(),
})

/**
 * Light validation of what a server sends; the client trusts the content of results. (A plain
 * union: two variants share type 'response', which a discriminated union refuses.)
 */
export const serverMessageSchema = z.union([
  welcomeSchema,
  z.object({
    type: z.literal('response'),
    id: z.number(),
    ok: z.literal(true),
    result: z.unknown(),
  }),
  z.object({
    type: z.literal('response'),
    id: z.number(),
    ok: z.literal(false),
    error: wireErrorSchema,
  }),
  z.object({ type: z.literal('error'), error: wireErrorSchema }),
  z.object({ type: z.literal('event'), event: z.record(z.string(), z.unknown()) }),
])

// ---- results ---------------------------------------------------------------------------------

/** One row of the listing (and the result of stat). */
export interface FileRow {
  index: number
  name: string
  size: number
  /** Modification time, ms since the epoch. */
  mtime: number
  /** Names of the servers that hold this file. */
  servers: string[]
  /** Locked at some server (see `locks`). */
  locked: boolean
  /** The user locks on this file, at this server first, then at its peers (by server name). */
  locks: UserLock[]
  /**
   * The holders' copies are not the same version: a user lock holding a server's copy back, a
   * transfer not yet done, a change on one disk not yet mirrored. `copies` then says which
   * server holds what.
   */
  differs: boolean
  /** Each holder's copy, by server name; present only when `differs`. */
  copies?: FileCopy[]
  /**
   * Absent for a regular file. 'symlink': this name is a symbolic link on this server's disk,
   * which is never mirrored (size 0, the link's own mtime; only this server is in `servers`
   * for it, though a peer may hold a file of that name, then listed in `copies`).
   */
  kind?: 'symlink'
}

/** One server's copy of a file, as the listing compares them. */
export interface FileCopy {
  server: string
  size: number
  /** The version's modification time, ms since the epoch (the same on every copy of a version). */
  mtime: number
  /** Hex SHA-256 of the copy, when the server's index knows it for the copy on its disk. */
  sha256?: string
  /** This server's copy is a symbolic link (not mirrored), not a file. */
  symlink?: true
}

/** A user lock: held at `server`, owned by the client id `owner`. */
export interface UserLock {
  name: string
  server: string
  owner: string
  /** When it was taken (ms since the epoch). */
  since: number
  /** When it ends by itself (ms since the epoch), or null: until unlocked. */
  expiresAt: number | null
  /** Peers' updates to the file waiting at `server` for the unlock. */
  queued: number
}

/** The answer to `lock`: the lock as held. */
export type LockResult = UserLock

/** The answer to `unlock`. */
export interface UnlockResult {
  name: string
  /** Whose lock it was. */
  owner: string
  /** The lock was another client's, released with `force`. */
  forced: boolean
  /** Queued updates applied, and how many of them left a conflict copy. */
  applied: number
  conflicts: number
}

export interface ListResult {
  files: FileRow[]
}

export interface WriteResult {
  name: string
  size: number
  mtime: number
  sha256: string
}

export interface DownloadHeader {
  name: string
  size: number
  mtime: number
}

export interface RenameResult {
  from: string
  to: string
  /** A folder was renamed: how many files it held. */
  files?: number
  folder?: true
}

export interface DeleteResult {
  name: string
  /** A folder was deleted (recursive): how many files went with it. */
  files?: number
  folder?: true
}

export interface LogEntry {
  seq: number
  /** ms since the epoch */
  time: number
  server: string
  op: string
  name: string | null
  /** The new name, for a rename. */
  to: string | null
  client: string | null
  /** Bytes, for operations that move content (the whole file's size for an interrupted one). */
  size: number | null
  detail: string | null
  /** For 'local-change': what another program did on the server's own disk. */
  what?: LocalChangeKind
  /** For 'local-change', the file's size after it; for an interrupted transfer, the bytes moved. */
  bytes?: number
}

/** What a program other than the server did to a file in its folder (cp, an editor, rm, mv). */
export type LocalChangeKind = 'created' | 'modified' | 'deleted' | 'renamed'

export interface LogResult {
  entries: LogEntry[]
}

export interface StatusResult {
  server: {
    name: string
    version: string
    protocol: number
    pid: number
    startedAt: number
    uptimeMs: number
    root: string
    host: string
    port: number
  }
  clients: {
    connected: number
    max: number
    list: { clientId: string; sessionId: string; address: string; connectedAt: number }[]
  }
  peers: PeerStatus[]
  /** Every member of the cluster this server knows, but itself (see MemberStatus). */
  members: MemberStatus[]
  sync: SyncStatus
  /** Roles: an equal of its peers, or a secondary of a primary (absent from older servers). */
  role?: RoleStatus
  /** User locks held here and at the peers (as they announced them). */
  locks: UserLock[]
  /** Per-path read/write locks held or awaited right now (operations in progress). */
  pathLocks: { name: string; readers: number; writers: number; waiting: number }[]
  /** Partial replication (present only with --replicas): copies, and healing's progress. */
  placement?: PlacementStatus
}

/**
 * How this member sees the cluster's copies (--replicas K): its live files, how many it holds,
 * how many have fewer live copies than min(K, candidates) or more, and what healing and
 * rebalancing have done since it started.
 */
export interface PlacementStatus {
  replicas: number
  files: number
  held: number
  underReplicated: number
  surplus: number
  healing: {
    /** Copies to make and surplus copies to drop here, waiting or under way. */
    queued: number
    copied: number
    dropped: number
    /** Bytes copied. */
    bytes: number
    lastError?: string
  }
}

/**
 * 'equal': no --primary (every server takes writes). 'secondary': writes are forwarded to
 * `primary` (HOST:PORT as given; `name` once a handshake told it), reachable when the mirror link
 * to it is connected.
 */
export type RoleStatus =
  | { kind: 'equal' }
  | { kind: 'secondary'; primary: string; name: string | null; reachable: boolean }

/** One peer as this server sees it. */
export interface PeerStatus {
  /** As given to --peer (host:control port). */
  address: string
  /** Its server name, once a handshake told it. */
  name: string | null
  /**
   * 'up': connected, and its changes flow (or none wait); 'stalled': connected, but changes wait
   * and none was applied (nor any content received) for a while; 'down': not connected.
   */
  state: 'up' | 'stalled' | 'down'
  /** `state === 'up'`. */
  up: boolean
  /** The links to it are open (up or stalled). */
  connected: boolean
  /** When this server last heard from it (ms since the epoch). */
  lastHeard: number | null
  /** Changes it announced that this server has not applied yet. */
  behind: number | null
  /**
   * Changes here it has not acknowledged yet (this server's index entries after the last one it
   * said it applied): what it still has to receive, up or down. Null until it first subscribed.
   */
  backlog: number | null
  /** How long the oldest of those has waited here (ms), or null when none waits. */
  oldestWaitingMs: number | null
  /** Its clock minus ours, estimated at the handshake. */
  clockSkewMs: number | null
  /** Contents fetched whole from it since this server started (absent when the sync engine does not answer). */
  fetched?: { files: number; bytes: number }
}

/**
 * A member of the cluster as this server sees it: a server this one follows (a --peer, one
 * found by discovery, or the primary of a secondary).
 */
export interface MemberStatus {
  /** Its server name, once a handshake (or discovery) told it; else null. */
  name: string | null
  /** Where it is reached (control port, HOST:PORT), the one in use first. */
  addresses: string[]
  /**
   * 'up': its heartbeats arrive; 'down': it was up, or could not be reached, and is silent (for
   * --peer-timeout) or disconnected; 'refused': it could not prove the cluster key (or we could
   * not prove ours to it); 'connecting': the first attempt to reach it is under way.
   */
  state: 'up' | 'down' | 'refused' | 'connecting'
  /** How this server came to know it. */
  source: 'static' | 'discovered' | 'primary'
  /** The clients it serves, from its last heartbeat (null until one came). */
  clients: number | null
  /** When this server last heard from it (ms since the epoch), over any run of the link. */
  lastContact: number | null
  /** Changes here it has not acknowledged yet (null until it first subscribed). */
  backlog: number | null
  /** Changes it announced that this server has not applied yet (null while not connected). */
  behind: number | null
  /** Why it is refused or down, when it is. */
  reason: string | null
}

export interface SyncStatus {
  /** 'refused': the data directory looks emptied or vanished; nothing is synced (see reason). */
  state: 'starting' | 'running' | 'refused' | 'stopped'
  reason?: string
  /** Files in the index (live) and this server's change sequence. */
  files?: number
  seq?: number
  /** Peers' entries that could not be applied here yet; retried (see SetAsideEntry). */
  setAside?: SetAsideEntry[]
}

/** A peer's entry set aside: the rest of its stream went on; this one is retried. */
export interface SetAsideEntry {
  name: string
  /** The peer it came from. */
  peer: string
  /** The error of the last attempt (ERR_NO_SPACE, ERR_IS_DIRECTORY, …) and its message. */
  code: string
  reason: string
  /** ms since the epoch: when it was first set aside. */
  since: number
  attempts: number
  /** ms since the epoch: the next attempt at the latest (sooner if something changes). */
  nextRetryAt: number
  /** For ERR_NO_SPACE: the bytes it needs. */
  neededBytes: number | null
}
