/**
 * The zod schemas the peer messages were checked with before the hand-written checks of
 * src/protocol/peer-messages.ts and handshake.ts (controlReplySchema) replaced them (the sync
 * worker loads no zod): kept here only so that test/protocol/peer-checks.test.ts can show that
 * the hand checks accept and refuse exactly what these did.
 */
import { z } from 'zod'
import { normalizeName } from '../../src/protocol/names.js'
const serverName = z.string().min(1).max(64)
const name = z.string().min(1).max(8192)
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/)

/** A name exactly as normalizeName leaves it: peers' names key the index and the locks. */
const canonicalName = name.refine((n) => isCanonicalName(n), 'not a canonical file name')

/**
 * The client request that made a version (a rid the cluster applies at most once), with the answer
 * it got: a member that receives the entry answers a replay of that rid with it.
 */
export const entryRequestSchema = z.strictObject({
  /** A client's CLIENT:SEQUENCE, or an HTTP request's `http-CLIENT:KEY` (its Idempotency-Key). */
  rid: z
    .string()
    .max(340)
    .regex(
      /^[\s\S]{1,200}:[A-Za-z0-9._~+/=-]{1,128}$/,
      'a request id is CLIENT:SEQUENCE or CLIENT:KEY',
    ),
  op: z.enum(['upload', 'create', 'write', 'append', 'rename', 'delete']),
  /** What the request named (`name`, or for a rename both names joined by U+001F): a rid reused for another is refused. */
  target: z.string().min(1).max(16_500),
  /** The operation's answer (JSON), as the client got it. */
  result: z.record(z.string(), z.json()),
  /** When the server that applied it did (ms since the epoch). */
  at: z.number().nonnegative(),
})

export const fileEntrySchema = z
  .strictObject({
    name: canonicalName,
    size: z.number().int().nonnegative(),
    mtime: z.number().nonnegative(),
    hash: sha256Hex.nullable(),
    deleted: z.boolean(),
    version: z.record(
      serverName,
      z
        .number()
        .int()
        .nonnegative()
        .max(Number.MAX_SAFE_INTEGER - 1),
    ),
    origin: serverName,
    seq: z.number().int().nonnegative(),
    renamedFrom: canonicalName.nullable().optional(),
    request: entryRequestSchema.nullable().optional(),
    /** The file's placement id: set when its name was first created, kept through renames. */
    fileId: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .nullable()
      .optional(),
    /** The server where the file was first created (placement keeps a copy there). */
    creator: serverName.nullable().optional(),
    /** The sender holds this version's content (--replicas: not every member does). */
    held: z.boolean().optional(),
  })
  // A live version has content, a tombstone has none.
  .refine((e) => e.deleted === (e.hash === null), 'hash must be set exactly for live entries')

function isCanonicalName(n: string): boolean {
  try {
    return normalizeName(n) === n
  } catch {
    return false
  }
}

/** A user lock a server holds, as it tells its peers (their listings show it). */
export const peerLockSchema = z.strictObject({
  name: canonicalName,
  owner: z.string().min(1).max(128),
  since: z.number(),
  expiresAt: z.number().nullable(),
  queued: z.number().int().nonnegative(),
})

export const peerRequestSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('subscribe'),
    /** The last sequence number applied from this epoch (0 for everything). */
    since: z.number().int().nonnegative(),
    epoch: z.string().max(64).nullable(),
  }),
  z.strictObject({
    type: z.literal('fetch'),
    id: z.number().int().nonnegative(),
    name,
    hash: sha256Hex,
  }),
  /**
   * The subscriber applied (or set aside) everything up to `seq` of what the index channel sent:
   * the sender's `status` counts what a peer has not acknowledged as its backlog.
   */
  z.strictObject({ type: z.literal('ack'), seq: z.number().int().nonnegative() }),
  /** The subscriber found our clocks apart: shown on this server's console too. */
  z.strictObject({ type: z.literal('clock'), skewMs: z.number() }),
])

export const peerPushSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('peer-welcome'),
    server: serverName,
    epoch: z.string(),
    time: z.number(),
    replicas: z.number().int().min(1).max(64).optional(),
  }),
  z.object({
    type: z.literal('entries'),
    epoch: z.string(),
    // Checked one by one (fileEntrySchema): one bad entry is dropped, not the whole batch.
    entries: z.array(z.unknown()),
    seq: z.number(),
  }),
  z.object({
    type: z.literal('heartbeat'),
    time: z.number(),
    seq: z.number(),
    clients: z.number().int().nonnegative().max(1_000_000).optional(),
  }),
  z.object({ type: z.literal('locks'), locks: z.array(peerLockSchema).max(100_000) }),
  z.object({
    type: z.literal('content'),
    id: z.number(),
    ok: z.boolean(),
    size: z.number().optional(),
    mtime: z.number().optional(),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
  }),
  z.object({
    type: z.literal('error'),
    error: z.object({ code: z.string(), message: z.string() }),
  }),
])

/** The server messages as messages.ts's zod schemas check them (the peer handshake read its welcome with it). */
export { serverMessageSchema } from '../../src/protocol/messages.js'
