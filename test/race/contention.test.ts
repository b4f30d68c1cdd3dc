// Many clients on one name at once: one create wins, no append is lost or doubled.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { startServer, TestClient } from '../helpers/index.js'

describe('contention on one name', () => {
  it('nine clients create the same name at once, ten rounds: exactly one wins each round', async () => {
    const server = await startServer()
    const clients = await Promise.all(
      Array.from({ length: 9 }, (_, i) => TestClient.connect(server.port, { clientId: `c${i}` })),
    )
    for (let round = 0; round < 10; round++) {
      const name = `created-${round}.txt`
      const replies = await Promise.all(
        clients.map((c, i) => c.create(name, Buffer.from(`client ${i}`))),
      )
      const winners = replies.flatMap((r, i) => (r.ok ? [i] : []))
      expect(winners, `round ${round}`).toHaveLength(1)
      expect(replies.filter((r) => !r.ok).map((r) => r.error?.code)).toEqual(
        Array(8).fill('ERR_EXISTS'),
      )
      expect(readFileSync(path.join(server.root, name), 'utf8')).toBe(`client ${winners[0]}`)
    }
    await Promise.all(clients.map((c) => c.close()))
  })

  it('nine clients append to one file at once: every line exactly once, none torn', async () => {
    const server = await startServer()
    const clients = await Promise.all(
      Array.from({ length: 9 }, (_, i) => TestClient.connect(server.port, { clientId: `c${i}` })),
    )
    expect((await clients[0]!.upload('journal.txt', Buffer.from('HEAD\n'))).ok).toBe(true)
    const appendAll = async (client: TestClient, i: number) => {
      for (let k = 0; k < 30; k++) {
        // Lines of different lengths, some over one data frame, so interleaving would show.
        const line = `c${i}-${k} ${'x'.repeat(k % 3 === 0 ? 300_000 : 20)}\n`
        const reply = await client.append('journal.txt', Buffer.from(line))
        expect(reply.ok, `c${i}-${k}: ${reply.error?.code}`).toBe(true)
      }
    }
    await Promise.all(clients.map(appendAll))
    const lines = readFileSync(path.join(server.root, 'journal.txt'), 'latin1').split('\n')
    expect(lines.shift()).toBe('HEAD')
    expect(lines.pop()).toBe('')
    const ids = lines.map((line) => {
      const match = /^(c\d-\d+) x+$/.exec(line)
      expect(match, `a torn line: ${line.slice(0, 40)}`).not.toBeNull()
      return match![1]!
    })
    expect(ids).toHaveLength(270)
    expect(new Set(ids).size).toBe(270)
    // Each client's own appends keep their order.
    for (let i = 0; i < 9; i++) {
      const own = ids.filter((id) => id.startsWith(`c${i}-`)).map((id) => Number(id.split('-')[1]))
      expect(own).toEqual([...own].sort((a, b) => a - b))
    }
    await Promise.all(clients.map((c) => c.close()))
  }, 120_000)
})
