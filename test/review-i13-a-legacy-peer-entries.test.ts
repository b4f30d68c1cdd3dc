// Review of issue 13 (server sync side): full mirroring (no --replicas) must keep speaking to a
// server that predates partial replication "exactly as before" (docs/PROTOCOL.md, "--replicas
// must agree"). The hello and the welcome are unchanged, so such a peer links; but every entry a
// new server sends now carries `held` (always, from FileIndex.put/since) and `fileId`/`creator`
// (the scanner gives every new file an id, --replicas or not). The older server validates each
// entry with a strict schema (z.strictObject, copied below from a7577be's
// src/protocol/peer-messages.ts) and drops every entry it does not know: nothing a new server
// changes is mirrored to it, and its progress moves past those entries for good.
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { normalizeName } from '../src/protocol/names.js'
import { freePorts, newServer, rawConnect, showOutputOnFailure, waitFor } from './helpers/index.js'

// ---- the wire entry as a server before partial replication (a7577be) validates it ----
const serverName = z.string().min(1).max(64)
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/)
const name = z.string().min(1).max(8192)
const canonicalName = name.refine((n) => {
  try {
    return normalizeName(n) === n
  } catch {
    return false
  }
}, 'not a canonical file name')
const entryRequestSchema = z.strictObject({
  rid: z.string(),
  op: z.string(),
  target: z.string(),
  result: z.record(z.string(), z.json()),
  at: z.number().nonnegative(),
})
const legacyFileEntrySchema = z
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
  })
  .refine((e) => e.deleted === (e.hash === null), 'hash must be set exactly for live entries')

describe('review i13-a: full mirroring still speaks to a server that predates placement', () => {
  it('every entry a server without --replicas sends is one an older server accepts', async () => {
    const [port, syncPort] = await freePorts(2)
    const server = newServer({ name: 'A', port: port!, syncPort: syncPort! })
    showOutputOnFailure([server])
    await server.start()
    await server.write('plain.txt', 'mirrored everywhere\n')
    await waitFor(async () => (await server.list()).some((r) => r.name === 'plain.txt'), {
      what: 'plain.txt indexed at A',
    })

    // An older peer 'OLD' (no `replicas` in its hello: the default, as before) subscribes.
    const old = await rawConnect(syncPort!)
    await old.sendPreamble()
    await old.sendControl({ type: 'peer-hello', server: 'OLD', channel: 'index' })
    expect(await old.nextControl(5_000)).toMatchObject({ type: 'peer-welcome', server: 'A' })
    await old.sendControl({ type: 'subscribe', since: 0, epoch: null })
    let entries: unknown[] = []
    for (;;) {
      const m = await old.nextControl(5_000)
      if (m.type === 'entries') {
        entries = m.entries as unknown[]
        break
      }
    }
    old.destroy()
    const plain = entries.find((e) => (e as { name?: string }).name === 'plain.txt')
    expect(plain).toBeDefined()
    // What the older server does with it (peer-link.ts #valid): drops it unless it parses.
    const parsed = legacyFileEntrySchema.safeParse(plain)
    expect(
      parsed.success,
      `an older server drops it: ${parsed.success ? '' : JSON.stringify(parsed.error.issues)}`,
    ).toBe(true)
  }, 60_000)
})
