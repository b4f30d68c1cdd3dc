// Two clients rename the same file at the same moment: exactly one wins, the other is told why,
// and the disk agrees with the answers.
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { startServer, tempFilesIn, TestClient } from '../helpers/index.js'

describe('rename race', () => {
  it('20 rounds: one rename succeeds, the other gets ERR_NOT_FOUND or ERR_EXISTS', async () => {
    const server = await startServer()
    const [alice, bob] = await Promise.all([
      TestClient.connect(server.port, { clientId: 'alice' }),
      TestClient.connect(server.port, { clientId: 'bob' }),
    ])
    for (let round = 0; round < 20; round++) {
      const source = `race/src-${round}.txt`
      const content = `round ${round}\n`
      expect((await alice.upload(source, Buffer.from(content))).ok).toBe(true)
      // Even rounds: both to the same target; odd rounds: to different targets.
      const aliceTarget = `race/dst-${round}-a.txt`
      const bobTarget = round % 2 === 0 ? aliceTarget : `race/dst-${round}-b.txt`
      const [a, b] = await Promise.all([
        alice.rename(source, aliceTarget),
        bob.rename(source, bobTarget),
      ])

      expect([a.ok, b.ok].filter(Boolean), `round ${round}: exactly one succeeds`).toHaveLength(1)
      const loser = a.ok ? b : a
      expect(['ERR_NOT_FOUND', 'ERR_EXISTS']).toContain(loser.error?.code)

      const winnerTarget = a.ok ? aliceTarget : bobTarget
      const loserTarget = a.ok ? bobTarget : aliceTarget
      expect(existsSync(path.join(server.root, source))).toBe(false)
      expect(readFileSync(path.join(server.root, winnerTarget), 'utf8')).toBe(content)
      if (loserTarget !== winnerTarget)
        expect(existsSync(path.join(server.root, loserTarget))).toBe(false)
    }
    expect(tempFilesIn(server.root)).toEqual([])
    const names = (await alice.list()).result!.files.map((f) => f.name)
    expect(names.filter((n) => n.startsWith('race/src-'))).toEqual([])
    expect(names.filter((n) => n.startsWith('race/dst-'))).toHaveLength(20)
    await Promise.all([alice.close(), bob.close()])
  })

  it('renames that swap two names at once never lose a file', async () => {
    const server = await startServer()
    const [alice, bob] = await Promise.all([
      TestClient.connect(server.port),
      TestClient.connect(server.port),
    ])
    for (let round = 0; round < 10; round++) {
      expect((await alice.upload(`x-${round}`, Buffer.from(`x${round}`))).ok).toBe(true)
      expect((await alice.upload(`y-${round}`, Buffer.from(`y${round}`))).ok).toBe(true)
      // x → y and y → x at once: both targets exist, so both must fail with ERR_EXISTS.
      const [a, b] = await Promise.all([
        alice.rename(`x-${round}`, `y-${round}`),
        bob.rename(`y-${round}`, `x-${round}`),
      ])
      expect([a.error?.code, b.error?.code]).toEqual(['ERR_EXISTS', 'ERR_EXISTS'])
      expect(readFileSync(path.join(server.root, `x-${round}`), 'utf8')).toBe(`x${round}`)
      expect(readFileSync(path.join(server.root, `y-${round}`), 'utf8')).toBe(`y${round}`)
    }
    await Promise.all([alice.close(), bob.close()])
  })
})
