// The hand-written checks of the peer messages (src/protocol/peer-messages.ts, and the welcome a
// peer reads: handshake.ts's controlReplySchema) accept and refuse exactly what the zod schemas
// they replaced did (test/helpers/zod-peer-schemas.ts), on messages built near the valid ones:
// each field valid, of a nearby wrong value or any JSON value, sometimes missing, sometimes an
// unknown key more.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { controlReplySchema } from '../../src/protocol/handshake.js'
import {
  fileEntrySchema,
  peerPushSchema,
  peerRequestSchema,
} from '../../src/protocol/peer-messages.js'
import * as zod from '../helpers/zod-peer-schemas.js'

const RUNS = 3_000
const ENTRY_FIELDS = Object.fromEntries(
  [
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
    'extra',
  ].map((k) => [k, true]),
)

const edgeNumber = fc.constantFrom(
  0,
  -0,
  1,
  -1,
  0.5,
  64,
  65,
  65_535,
  65_536,
  1_000_000,
  1_000_001,
  100_000,
  Number.MAX_SAFE_INTEGER - 1,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 1,
  2 ** 60,
  1e300,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
)
const number = fc.oneof(edgeNumber, fc.integer(), fc.double())
const sha = fc.stringMatching(/^[0-9a-f]{64}$/)
const text = (max: number) =>
  fc.oneof(
    fc.string({ maxLength: 8 }),
    fc.constantFrom('', 'a', 'x'.repeat(max), 'x'.repeat(max + 1)),
  )
/** Names: canonical ones, and ones normalizeName changes or refuses. */
const name = fc.oneof(
  fc.constantFrom(
    'a.txt',
    'dir/b',
    '',
    '/a',
    'a/',
    'a//b',
    './a',
    '..',
    'a/../b',
    'e\u0301',
    '\u00e9',
    'x'.repeat(8193),
    'a\\b',
    'CON',
    'a\u0000b',
    'x'.repeat(8192),
  ),
  fc.string({ maxLength: 12 }),
)
const anyJson = fc.jsonValue({ maxDepth: 2 })
const serverNames = fc.oneof(text(64), fc.constantFrom('A', 'B'))
const version = fc.oneof(
  fc.dictionary(serverNames, fc.oneof(number, anyJson), { maxKeys: 3 }),
  anyJson,
)

/** A field of `valid`, or a wrong one now and then; or missing. */
const field = <T>(valid: fc.Arbitrary<T>) =>
  fc.oneof(
    { weight: 6, arbitrary: valid },
    { weight: 1, arbitrary: anyJson },
    { weight: 1, arbitrary: fc.constant(undefined) },
  )

/** An object of these fields (undefined: left out), now and then with an unknown key. */
function message(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  return fc
    .tuple(
      fc.record(fields),
      fc.option(fc.tuple(fc.constantFrom('extra', 'name', 'type', 'x'), anyJson), { freq: 5 }),
    )
    .map(([record, extra]) => {
      const m: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(record)) if (v !== undefined) m[k] = v
      if (extra) m[extra[0]] = extra[1]
      return m
    })
}

const wireError = message({
  code: field(fc.constantFrom('ERR_BUSY', 'ERR_NOT_FOUND', 'NOPE')),
  message: field(fc.string({ maxLength: 5 })),
  retryAfterMs: fc.option(number, { nil: undefined }),
  holders: fc.option(
    fc.oneof(
      fc.array(
        message({
          name: field(text(255)),
          address: field(text(300)),
          http: fc.option(field(text(300)), { nil: undefined }),
          up: fc.option(field(fc.boolean()), { nil: undefined }),
        }),
        { maxLength: 3 },
      ),
      fc.constant(Array.from({ length: 65 }, () => ({ name: 'a', address: 'b' }))),
    ),
    { nil: undefined },
  ),
})

const entryRequest = message({
  rid: field(
    fc.oneof(
      fc.constantFrom(
        'c:1',
        'http-c:K_~+/=-',
        ':1',
        'c:',
        'c:a b',
        `${'x'.repeat(200)}:1`,
        `${'x'.repeat(201)}:1`,
      ),
      fc.string({ maxLength: 6 }),
    ),
  ),
  op: field(fc.constantFrom('upload', 'create', 'write', 'append', 'rename', 'delete', 'get')),
  target: field(text(16_500)),
  result: field(
    fc.oneof(fc.dictionary(fc.string({ maxLength: 3 }), fc.oneof(anyJson, number)), anyJson),
  ),
  at: field(number),
})

/** A valid entry, then now and then one field replaced by a value from `fileEntryNear`, or dropped. */
const validEntry = fc
  .record({
    name: fc.constantFrom('a.txt', 'dir/b', '\u00e9'),
    size: fc.nat(),
    mtime: fc.oneof(fc.nat(), fc.double({ min: 0, max: 1e12, noNaN: true })),
    sha,
    deleted: fc.boolean(),
    version: fc.dictionary(fc.constantFrom('A', 'B', 'x'.repeat(64)), fc.nat(), { maxKeys: 2 }),
    origin: fc.constantFrom('A', 'B'),
    seq: fc.nat(),
    renamedFrom: fc.constantFrom(undefined, null, 'c'),
    request: fc.constantFrom(undefined, null, {
      rid: 'c:1',
      op: 'upload',
      target: 'a.txt',
      result: { size: 1, ok: [true, null, 'x'] },
      at: 5,
    }),
    fileId: fc.constantFrom(undefined, null, 'abc_-9'),
    creator: fc.constantFrom(undefined, null, 'A'),
    held: fc.constantFrom(undefined, true, false),
  })
  .map(({ sha: hash, ...e }) => {
    const entry: Record<string, unknown> = { ...e, hash: e.deleted ? null : hash }
    for (const k of Object.keys(entry)) if (entry[k] === undefined) delete entry[k]
    return entry
  })
const fileEntryNear = message({
  name: field(name),
  size: field(number),
  mtime: field(number),
  hash: field(fc.oneof(sha, fc.constant(null), fc.constant('ABC'))),
  deleted: field(fc.boolean()),
  version: field(version),
  origin: field(serverNames),
  seq: field(number),
  renamedFrom: field(fc.oneof(name, fc.constant(null))),
  request: field(fc.oneof(entryRequest, fc.constant(null))),
  fileId: field(
    fc.oneof(
      fc.constantFrom('abc_-9', 'a'.repeat(64), 'a'.repeat(65), 'a b', ''),
      fc.constant(null),
    ),
  ),
  creator: field(fc.oneof(serverNames, fc.constant(null))),
  held: field(fc.boolean()),
  extra: field(fc.constant(1)),
})
const fileEntry = fc
  .tuple(validEntry, fileEntryNear, fc.constantFrom(...Object.keys(ENTRY_FIELDS)), fc.nat(3))
  .map(([entry, near, key, how]) => {
    const e = { ...entry }
    if (how === 1) delete e[key]
    else if (how >= 2) e[key] = (near as Record<string, unknown>)[key] ?? null
    return e
  })

const peerLock = message({
  name: field(name),
  owner: field(text(128)),
  since: field(number),
  expiresAt: field(fc.oneof(number, fc.constant(null))),
  queued: field(number),
})

const types = (...names: string[]) => fc.constantFrom(...names, 'nope')

const peerRequest = fc.oneof(
  message({
    type: field(types('subscribe')),
    since: field(number),
    epoch: field(fc.oneof(text(64), fc.constant(null))),
  }),
  message({
    type: field(types('fetch')),
    id: field(number),
    name: field(text(8192)),
    hash: field(sha),
  }),
  message({ type: field(types('ack')), seq: field(number) }),
  message({ type: field(types('clock')), skewMs: field(number) }),
)

const optionalField = <T>(a: fc.Arbitrary<T>) => fc.option(field(a), { nil: undefined })

const peerPush = fc.oneof(
  message({
    type: field(types('peer-welcome')),
    server: field(serverNames),
    epoch: field(fc.string({ maxLength: 4 })),
    time: field(number),
    replicas: optionalField(number),
  }),
  message({
    type: field(types('entries')),
    epoch: field(fc.string({ maxLength: 4 })),
    entries: field(fc.array(anyJson, { maxLength: 2 })),
    seq: field(number),
  }),
  message({
    type: field(types('heartbeat')),
    time: field(number),
    seq: field(number),
    clients: optionalField(number),
  }),
  message({ type: field(types('locks')), locks: field(fc.array(peerLock, { maxLength: 3 })) }),
  message({
    type: field(types('content')),
    id: field(number),
    ok: field(fc.boolean()),
    size: optionalField(number),
    mtime: optionalField(number),
    error: optionalField(wireError),
  }),
  message({ type: field(types('error')), error: field(wireError) }),
)

const controlReply = fc.oneof(
  message({
    type: field(types('welcome')),
    server: field(
      message({
        name: field(fc.string({ maxLength: 3 })),
        version: field(fc.string({ maxLength: 3 })),
      }),
    ),
    sessionId: field(fc.string({ maxLength: 3 })),
    load: optionalField(message({ clients: field(number), maxClients: field(number) })),
    sync: optionalField(
      message({
        port: field(number),
        time: field(number),
        replicas: optionalField(number),
        http: optionalField(fc.oneof(number, fc.constant(null))),
        capacity: optionalField(number),
      }),
    ),
  }),
  message({
    type: field(types('response')),
    id: field(number),
    ok: field(fc.constantFrom(true, false, 1)),
    result: optionalField(anyJson),
    error: optionalField(wireError),
  }),
  message({ type: field(types('error')), error: field(wireError) }),
  message({ type: field(types('event')), event: field(anyJson) }),
)

/** The same verdict, and on success the same data (`project`: what callers read of it). */
function same(
  arb: fc.Arbitrary<unknown>,
  hand: (v: unknown) => { success: boolean; data?: unknown },
  old: (v: unknown) => { success: boolean; data?: unknown },
  project: (data: unknown) => unknown = (d) => d,
): void {
  let accepted = 0
  let refused = 0
  fc.assert(
    fc.property(
      fc.oneof({ weight: 9, arbitrary: arb }, { weight: 1, arbitrary: anyJson }),
      (value) => {
        const a = hand(value)
        const b = old(value)
        expect(a.success).toBe(b.success)
        if (a.success) accepted++
        else refused++
        if (a.success) expect(project(a.data)).toEqual(project(b.data))
      },
    ),
    { numRuns: RUNS },
  )
  // Both verdicts were met often enough for the match to mean something. Random messages: a
  // file-exchange request was accepted 59 times in one run of 3,000, so the floor is well below
  // what a run meets (it was RUNS / 50 = 60, which that run missed).
  expect(accepted).toBeGreaterThan(RUNS / 200)
  expect(refused).toBeGreaterThan(RUNS / 200)
}

describe('the peer messages checked by hand, as the zod schemas did', () => {
  it('an index entry', () => {
    same(
      fileEntry,
      (v) => fileEntrySchema.safeParse(v),
      (v) => zod.fileEntrySchema.safeParse(v),
    )
  })

  it('an index entry refused names why: the reasons the schema gave for its own refinements', () => {
    const entry = {
      name: 'a',
      size: 1,
      mtime: 0,
      hash: null,
      deleted: false,
      version: {},
      origin: 'A',
      seq: 1,
    }
    expect(fileEntrySchema.safeParse(entry)).toEqual({
      success: false,
      reason: 'hash must be set exactly for live entries',
    })
    expect(fileEntrySchema.safeParse({ ...entry, name: '/a' })).toEqual({
      success: false,
      reason: 'not a canonical file name',
    })
    expect(fileEntrySchema.safeParse({ ...entry, hash: 'a'.repeat(64) }).success).toBe(true)
  })

  it('a request on the file-exchange port', () => {
    same(
      peerRequest,
      (v) => peerRequestSchema.safeParse(v),
      (v) => zod.peerRequestSchema.safeParse(v),
    )
  })

  it('a push on the file-exchange port (error objects cut to code and message, as zod stripped them)', () => {
    // Callers read the known fields only: unknown ones (zod dropped them) are left out of the match.
    const known: Record<string, string[]> = {
      'peer-welcome': ['server', 'epoch', 'time', 'replicas'],
      entries: ['epoch', 'entries', 'seq'],
      heartbeat: ['time', 'seq', 'clients'],
      locks: ['locks'],
      content: ['id', 'ok', 'size', 'mtime', 'error'],
      error: ['error'],
    }
    const project = (d: unknown) => {
      const m = d as Record<string, unknown> & { type: string }
      return Object.fromEntries(['type', ...known[m.type]!].map((k) => [k, m[k]]))
    }
    same(
      peerPush,
      (v) => peerPushSchema.safeParse(v),
      (v) => zod.peerPushSchema.safeParse(v),
      project,
    )
  })

  it("the control port's answer to a peer's hello", () => {
    // What the peer handshake reads of it: the kind, an error, and the welcome's fields.
    const project = (d: unknown) => {
      const m = d as {
        type: string
        error?: unknown
        server?: unknown
        sync?: Record<string, unknown>
      }
      if (m.type === 'error') return { type: 'error', error: m.error }
      if (m.type !== 'welcome') return { type: 'other' }
      return { type: 'welcome', server: m.server, sync: m.sync }
    }
    same(
      controlReply,
      (v) => controlReplySchema.safeParse(v),
      (v) => zod.serverMessageSchema.safeParse(v),
      project,
    )
  })
})
