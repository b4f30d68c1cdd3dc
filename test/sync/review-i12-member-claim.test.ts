// A member reached by two links (two --peer addresses of one server, or a --peer beside a
// discovered one) is followed once, by the link that reaches it: here a --peer at the address
// where B used to listen (its name remembered from that run) sits beside a --peer at B's new
// address. The link that connects must not be the one dropped in favour of the one that cannot.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import type { StatusResult } from '../../src/protocol/index.js'
import { startServer, TestClient, waitFor, type ServerHandle } from '../helpers/index.js'

async function statusOf(server: ServerHandle): Promise<StatusResult> {
  const client = await TestClient.connect(server.port)
  try {
    const reply = await client.status()
    if (!reply.ok) throw new Error(JSON.stringify(reply.error))
    return reply.result!
  } finally {
    await client.close()
  }
}

async function beeUp(server: ServerHandle): Promise<boolean> {
  const members = (await statusOf(server)).members
  return members.some((m) => m.name === 'bee' && m.state === 'up')
}

describe('review: one member behind two links', () => {
  it('a --peer at a dead old address of B beside one at its new address: B is followed', async () => {
    const oldB = await startServer({ name: 'bee' })
    let a = await startServer({ name: 'ay', extraArgs: ['--peer', oldB.address] })
    await waitFor(() => beeUp(a), { timeoutMs: 20_000, intervalMs: 100, what: 'bee up at ay' })
    await a.stop()
    await oldB.stop()
    // B comes back on another port (same name and data); A is told both addresses.
    const b = await startServer({ name: 'bee', root: oldB.root, stateDir: oldB.stateDir })
    a = await startServer({
      name: 'ay',
      root: a.root,
      stateDir: a.stateDir,
      extraArgs: ['--peer', oldB.address, '--peer', b.address],
    })
    try {
      writeFileSync(path.join(b.root, 'after.txt'), 'new')
      await waitFor(
        () =>
          existsSync(path.join(a.root, 'after.txt')) &&
          readFileSync(path.join(a.root, 'after.txt'), 'utf8') === 'new',
        { timeoutMs: 20_000, intervalMs: 100, what: "B's new file at A" },
      )
      await waitFor(() => beeUp(a), { timeoutMs: 10_000, intervalMs: 100, what: 'bee up at ay' })
      const bees = (await statusOf(a)).members.filter((m) => m.name === 'bee')
      expect(bees).toHaveLength(1)
    } finally {
      await a.stop()
      await b.stop()
    }
  })
})
