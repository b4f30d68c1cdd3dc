// kill -9 of the server in the middle of a client's `rm -r` of a folder of 4,000 files, then a
// restart on the same directories: some files are deleted, every other one is whole (each file
// goes with one unlink: none is torn), and the index agrees with the disk after the restart (the
// files deleted before the kill are recorded as deleted, syncing goes on: not a mass deletion).
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { startServer, TestClient, waitFor, type ServerHandle } from '../helpers/index.js'

const FILES = 4_000
const contentOf = (i: number) => `file ${i}: ${'z'.repeat(i % 97)}\n`

function filesLeft(root: string): number {
  let count = 0
  for (const sub of ['a', 'b', 'c', 'd'])
    try {
      count += readdirSync(path.join(root, 'big', sub)).length
    } catch {
      // already removed
    }
  return count
}

async function indexed(server: ServerHandle): Promise<number | undefined> {
  const client = await TestClient.connect(server.port, { clientId: 'probe' })
  try {
    const status = (await client.status()).result as { sync: { state: string; files?: number } }
    return status.sync.state === 'running' ? status.sync.files : undefined
  } finally {
    await client.close()
  }
}

describe('kill -9 during a folder delete', () => {
  it('leaves some files deleted and the rest whole; the index agrees after the restart', async () => {
    const server = await startServer()
    for (const sub of ['a', 'b', 'c', 'd'])
      mkdirSync(path.join(server.root, 'big', sub), { recursive: true })
    for (let i = 0; i < FILES; i++)
      writeFileSync(path.join(server.root, 'big', 'abcd'[i % 4]!, `f${i}.txt`), contentOf(i))
    writeFileSync(path.join(server.root, 'kept.txt'), 'kept\n')
    await waitFor(async () => (await indexed(server)) === FILES + 1, {
      timeoutMs: 60_000,
      intervalMs: 200,
      what: 'the server to index every file',
    })

    const client = await TestClient.connect(server.port)
    const reply = client.delete('big', { recursive: true })
    await waitFor(() => filesLeft(server.root) < FILES, {
      timeoutMs: 30_000,
      intervalMs: 1,
      what: 'the delete to begin',
    })
    await server.kill9()
    await reply.catch(() => undefined)
    const left = filesLeft(server.root)
    // Caught in the middle (a 4,000-file delete takes far longer than a poll).
    expect(left).toBeGreaterThan(0)
    expect(left).toBeLessThan(FILES)

    // Every file still there is whole.
    for (let i = 0; i < FILES; i++) {
      const file = path.join(server.root, 'big', 'abcd'[i % 4]!, `f${i}.txt`)
      let content: string | undefined
      try {
        content = readFileSync(file, 'utf8')
      } catch {
        continue // deleted
      }
      expect(content).toBe(contentOf(i))
    }

    const next = await server.restart()
    await waitFor(async () => (await indexed(next)) === left + 1, {
      timeoutMs: 60_000,
      intervalMs: 200,
      what: `the index to list the ${left + 1} files left`,
    })
    // The rest can be deleted now, as one operation again.
    const again = await TestClient.connect(next.port)
    const done = await again.delete('big', { recursive: true })
    await again.close()
    expect(done.result).toEqual({ name: 'big', files: left, folder: true })
    await waitFor(async () => (await indexed(next)) === 1, { what: 'only kept.txt indexed' })
  }, 180_000)
})
