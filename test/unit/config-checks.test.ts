// The server options are checked by hand (config.ts: the main thread loads no zod). Their errors
// must read as zod's did: this is the zod schema they replaced, and every input below must give
// the same first problem (path and message) or pass both.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { checkOptions, ConfigError, resolveConfig } from '../../src/server/config.js'

const hostPort = z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected HOST:PORT')
const port = z.number().int().min(0).max(65535)
const zodSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, ".", "_" or "-", at most 64')
    .optional(),
  root: z.string().min(1).optional(),
  host: z.string().min(1).optional(),
  port: port.optional(),
  syncPort: port.optional(),
  http: z.boolean().optional(),
  httpPort: port.optional(),
  maxHttpConnections: z.number().int().min(1).max(100_000).optional(),
  httpHeadersTimeoutMs: z.number().int().min(100).optional(),
  peers: z.array(hostPort).optional(),
  maxClients: z.number().int().min(1).max(1000).optional(),
  workers: z.number().int().min(0).max(64).optional(),
  stateDir: z.string().min(1).optional(),
  idleTimeoutMs: z.number().int().min(100).optional(),
  helloTimeoutMs: z.number().int().min(100).optional(),
  maxPreHelloPerAddress: z.number().int().min(1).max(10_000).optional(),
  maxPreHello: z.number().int().min(1).max(10_000).optional(),
  lockTimeoutMs: z.number().int().min(1).optional(),
  peerTimeoutMs: z.number().int().min(1_500).max(3_600_000).optional(),
  shutdownGraceMs: z.number().int().min(0).optional(),
  requestWindow: z.number().int().min(1).max(1_000_000).optional(),
  requestWindowAgeMs: z.number().int().min(1_000).optional(),
  cluster: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,63}$/, 'letters, digits, ".", "_" or "-", at most 63')
    .optional(),
  clusterInterface: z.ipv4('expected the IPv4 address of an interface').optional(),
  clusterKey: z.string().optional(),
  primary: hostPort.nullable().optional(),
  replicas: z.number().int().min(1).max(64).nullable().optional(),
  rereplicateAfterMs: z
    .number()
    .int()
    .min(1_000)
    .max(30 * 86_400_000)
    .optional(),
  proxyReads: z.boolean().optional(),
})

function byZod(raw: unknown): { ok: true; options: unknown } | { path: string; message: string } {
  const parsed = zodSchema.safeParse(raw)
  if (parsed.success) return { ok: true, options: parsed.data }
  const issue = parsed.error.issues[0]!
  return { path: issue.path.join('.'), message: issue.message }
}

function byHand(raw: unknown): { ok: true; options: unknown } | { path: string; message: string } {
  const checked = checkOptions(raw)
  return checked.ok ? checked : { path: checked.path, message: checked.message }
}

const KEYS = Object.keys(zodSchema.shape)
const anyValue = fc.oneof(
  fc.integer({ min: -10, max: 70_000 }),
  fc.constantFrom(0, 1, 99, 100, 1.5, -1, 1_499, 1_500, 3_600_001, 64, 65, 65_535, 65_536),
  fc.constantFrom(NaN, Infinity, -Infinity, 2_592_000_001, 1_000_001, 100_001, 10_001, 1_001),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom('', 'a', 'A.b_c-1', 'a b', 'x'.repeat(64), 'x'.repeat(65), 'h:1', 'h:123456'),
  fc.constantFrom('127.0.0.1', '256.1.1.1', '01.2.3.4', '1.2.3', '127.0.0.1:8001', ' :1'),
  fc.string(),
  fc.array(fc.constantFrom('a:1', 'b', 'c:99999', 3, null), { maxLength: 3 }),
  fc.constantFrom({}, [], new Date(0)),
)

describe('config: the options checks read as zod did', () => {
  it('gives the same first problem as the zod schema, or passes as it did', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom(...KEYS, 'nope', 'other'), anyValue, { maxKeys: 4 }),
        (raw) => {
          expect(byHand(raw)).toEqual(byZod(raw))
        },
      ),
      { numRuns: 5_000 },
    )
    for (const raw of [null, [], 'text', 3, undefined, { nope: 1, other: 2 }, { port: undefined }])
      expect(byHand(raw)).toEqual(byZod(raw))
  })

  it('names the option in the error', () => {
    expect(() => resolveConfig({ port: 70_000 })).toThrow(
      new ConfigError('invalid option port: Too big: expected number to be <=65535'),
    )
    expect(() => resolveConfig({ peers: ['a:1', 'b'] })).toThrow(
      new ConfigError('invalid option peers.1: expected HOST:PORT'),
    )
    expect(() => resolveConfig({ bogus: true })).toThrow(
      new ConfigError('invalid option : Unrecognized key: "bogus"'),
    )
  })
})
