// Review of issue 13 (reviewer B): a PUT (upload) of a file the cluster has, at a member that holds
// no copy of it, replaces it there as a new version (docs/HTTP.md, PROTOCOL.md) — but the commit
// (ops/body.ts: `created = !(await ctx.store.exists(file))`) looks only at this disk, so it says
// the name was created, and HTTP answers `201 Created` (routes/bodies.ts: "201 when created") for
// a replacement of an existing file; at a holder the same PUT is 200.
import { describe, expect, it } from 'vitest'
import type { Holder } from '../src/protocol/index.js'
import { createOpsHarness, runBody } from './helpers/ops-harness.js'

const B: Holder = { name: 'B', address: '127.0.0.1:9002', http: '127.0.0.1:9082' }

describe('a PUT replacing a file held at other members (review i13 B)', () => {
  it('is a replacement (created: false, HTTP 200), as at a holder', async () => {
    const holder = createOpsHarness()
    holder.writeFile('far.txt', 'old')
    const atHolder = await runBody(holder.context(), { op: 'upload', name: 'far.txt' }, 'new')
    expect(atHolder.created, 'at a holder').toBe(false)

    const other = createOpsHarness()
    other.data.elsewhere.set('far.txt', [B])
    other.peerHolds('B', 'far.txt', 3, 1_000, 'ab'.repeat(32))
    const atNonHolder = await runBody(other.context(), { op: 'upload', name: 'far.txt' }, 'new')
    expect(atNonHolder.created, 'at a member holding no copy').toBe(false)
  })
})
