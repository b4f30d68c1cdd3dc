// Roles, the link to the primary under strain: a primary with no free client slot answers a
// forwarded write with its own ERR_BUSY (and its retry hint), passed through; a primary killed
// (-9) in the middle of a body streamed through a secondary makes that write fail with
// ERR_PEER_UNREACHABLE, stores nothing at the secondary, and the secondary keeps serving.
import { writeFileSync } from 'node:fs'
import { readFile, readdir } from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { TestClient, tempDir, waitFile, waitFor } from '../helpers/index.js'
import { startRoles } from '../helpers/roles.js'

const MiB = 1024 * 1024

describe('roles: the link to the primary', () => {
  it("a primary with no free slot: the write gets the primary's ERR_BUSY, reads work", async () => {
    const { primary, secondaries } = await startRoles({
      secondaries: 1,
      primaryArgs: ['--max-clients', '1'],
    })
    const s1 = secondaries[0]!
    const alice = await TestClient.connect(s1.port, { clientId: 'alice' })
    try {
      const made = await alice.create('a.txt', Buffer.from('one\n'))
      expect(made.ok, made.error?.code).toBe(true)
      await waitFile([s1], 'a.txt', 'one\n')
      // alice's forwarding connection closes when her session does: another client takes P's slot.
      await alice.close()
      // Her link's connection to P closes a moment after her session: wait for its slot.
      const hog = await waitFor(
        async () => (await TestClient.tryConnect(primary.port, { clientId: 'hog' })).client,
        { what: "alice's slot at P to be free" },
      )
      try {
        const bob = await TestClient.connect(s1.port, { clientId: 'bob' })
        try {
          const refused = await bob.append('a.txt', Buffer.from('two\n'))
          expect(refused.ok).toBe(false)
          expect(refused.error?.code).toBe('ERR_BUSY')
          expect(refused.error?.retryAfterMs).toBeGreaterThan(0)
          const read = await bob.download('a.txt')
          expect(read.ok, read.error?.code).toBe(true)
        } finally {
          await bob.close()
        }
      } finally {
        await hog.close()
      }
      const carol = await TestClient.connect(s1.port, { clientId: 'carol' })
      try {
        const reply = await waitFor(
          async () => {
            const r = await carol.append('a.txt', Buffer.from('two\n'))
            return r.ok ? r : r.error?.code === 'ERR_BUSY' ? false : r
          },
          { what: "P's slot to be free again" },
        )
        expect(reply.ok, reply.error?.code).toBe(true)
      } finally {
        await carol.close()
      }
      await waitFile([primary, s1], 'a.txt', 'one\ntwo\n')
    } finally {
      await alice.close().catch(() => undefined)
    }
  })

  it('the primary killed in the middle of a streamed upload: ERR_PEER_UNREACHABLE, nothing stored', async () => {
    const { primary, secondaries } = await startRoles({ secondaries: 1 })
    const s1 = secondaries[0]!
    const client = await TestClient.connect(s1.port, { clientId: 'alice' })
    try {
      const chunk = Buffer.alloc(MiB, 1)
      async function* body() {
        for (let i = 0; i < 8; i++) yield chunk
        await primary.kill9()
        for (let i = 0; i < 8; i++) yield chunk
      }
      const reply = await client.upload('big.bin', body(), { size: 16 * MiB })
      expect(reply.ok).toBe(false)
      expect(reply.error?.code).toBe('ERR_PEER_UNREACHABLE')
      // The secondary serves on, on the same connection, and wrote nothing of it.
      const listed = await client.list()
      expect(listed.ok, listed.error?.code).toBe(true)
      expect(listed.result?.files).toEqual([])
      expect(await readdir(s1.root)).toEqual([])
      const again = await client.create('x.txt', Buffer.from('x'))
      expect(again.error?.code).toBe('ERR_PEER_UNREACHABLE')
    } finally {
      await client.close()
    }
  })

  it('with a cluster key: the secondary mirrors over the key-proven link and forwards writes', async () => {
    const key = path.join(tempDir('tandem-key-'), 'cluster.key')
    writeFileSync(key, 'cm9sZXMgdGVzdCBrZXkgZm9yIGEgcHJpbWFyeSBhbmQgaXRzIHNlY29uZGFyeQ==\n')
    const { primary, secondaries } = await startRoles({
      secondaries: 1,
      allArgs: ['--cluster-key', key],
    })
    const s1 = secondaries[0]!
    const client = await TestClient.connect(s1.port, { clientId: 'alice' })
    try {
      const made = await client.create('k.txt', Buffer.from('keyed\n'))
      expect(made.ok, made.error?.code).toBe(true)
    } finally {
      await client.close()
    }
    expect(await readFile(primary.file('k.txt'), 'utf8')).toBe('keyed\n')
    await waitFile([s1], 'k.txt', 'keyed\n')
    expect((await s1.status()).role).toMatchObject({ kind: 'secondary', reachable: true })
  })
})
