// Stopping, crashing and restarting: clean exit on SIGTERM, one server per data directory, the
// directory lock reclaimed after a crash, the change log kept across restarts.
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  deadline,
  exitOf,
  spawnServer,
  startServer,
  tempDir,
  TestClient,
  waitFor,
} from '../helpers/index.js'

function layout(): { root: string; stateDir: string } {
  const base = tempDir()
  const root = path.join(base, 'root')
  const stateDir = path.join(base, 'state')
  mkdirSync(root)
  mkdirSync(stateDir)
  return { root, stateDir }
}

describe('lifecycle', () => {
  it('SIGTERM with an idle client connected: exit 0, client closed, directory lock released', async () => {
    const server = await startServer()
    const client = await TestClient.connect(server.port)
    expect((await client.upload('a.txt', Buffer.from('a'))).ok).toBe(true)
    const started = Date.now()
    expect(await server.stop('SIGTERM')).toBe(0)
    expect(Date.now() - started).toBeLessThan(10_000)
    await waitFor(() => client.conn.isClosed, { what: 'the client to be closed' })
    const next = await startServer({ root: server.root, stateDir: server.stateDir })
    const again = await TestClient.connect(next.port)
    expect((await again.download('a.txt')).body?.toString()).toBe('a')
    await again.close()
    expect(await next.stop()).toBe(0)
  })

  it('SIGINT also exits 0', async () => {
    const server = await startServer()
    expect(await server.stop('SIGINT')).toBe(0)
  })

  it('a second server on the same root exits at once, non-zero, naming the locked directory', async () => {
    const dirs = layout()
    const first = await startServer(dirs)
    for (const stateDir of [dirs.stateDir, path.join(path.dirname(dirs.root), 'other-state')]) {
      const second = spawnServer({ ...dirs, stateDir })
      const code = await deadline(exitOf(second.proc), 15_000, 'the second server to exit')
      expect(code).not.toBe(0)
      expect(code).not.toBeNull()
      expect(second.output()).toContain(dirs.root)
      expect(second.output()).not.toMatch(/listening on/)
    }
    // The first one is unharmed.
    const client = await TestClient.connect(first.port)
    expect((await client.call('ping')).ok).toBe(true)
    await client.close()
  })

  it('after kill -9 of the first server, a new one on the same root starts (lock reclaimed)', async () => {
    const dirs = layout()
    const first = await startServer(dirs)
    await first.kill9()
    const started = Date.now()
    const next = await startServer(dirs)
    // Reclaimed because the holder is dead, not after a long staleness period.
    expect(Date.now() - started).toBeLessThan(8_000)
    const client = await TestClient.connect(next.port)
    expect((await client.call('ping')).ok).toBe(true)
    await client.close()
  })

  it('the change log persists across a clean restart and across kill -9', async () => {
    const server = await startServer()
    const client = await TestClient.connect(server.port, { clientId: 'logger' })
    expect((await client.upload('one.txt', Buffer.from('1'))).ok).toBe(true)
    expect((await client.rename('one.txt', 'two.txt')).ok).toBe(true)
    expect((await client.delete('two.txt')).ok).toBe(true)
    const before = (await client.log({ limit: 100 })).result!.entries
    const ours = before.filter((e) => e.client === 'logger')
    expect(ours.map((e) => e.op)).toEqual(['upload', 'rename', 'delete'])
    await client.close()

    const restarted = await server.restart()
    const afterClean = await TestClient.connect(restarted.port)
    const kept = (await afterClean.log({ limit: 100 })).result!.entries
    expect(kept.filter((e) => e.client === 'logger')).toEqual(ours)
    expect((await afterClean.upload('three.txt', Buffer.from('3'))).ok).toBe(true)
    await afterClean.close()

    await restarted.kill9()
    const crashed = await restarted.restart()
    const afterCrash = await TestClient.connect(crashed.port)
    const entries = (await afterCrash.log({ limit: 100 })).result!.entries
    expect(entries.filter((e) => e.client === 'logger')).toEqual(ours)
    // The acknowledged upload made just before the crash is in the log too.
    expect(entries.some((e) => e.op === 'upload' && e.name === 'three.txt')).toBe(true)
    // Sequence numbers keep increasing across restarts.
    const seqs = entries.map((e) => e.seq)
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
    expect(new Set(seqs).size).toBe(seqs.length)
    await afterCrash.close()
  })
})
