// kill -9 of the server in the middle of a 256 MiB upload, then a restart on the same directories:
// the file is the old version or absent, never torn, and no temp file survives the startup.
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  startServer,
  tempBytes,
  tempFilesIn,
  TestClient,
  waitFor,
  type ServerHandle,
} from '../helpers/index.js'

const MiB = 1024 * 1024
const TOTAL = 256 * MiB
const CHUNK = MiB

/**
 * The 256 MiB body, made on the fly. Past 60 % it holds back until `release` (the kill), so the
 * test catches the server at about half without racing a fast disk.
 */
async function* hugeBody(release: Promise<void>): AsyncGenerator<Buffer> {
  const chunk = Buffer.alloc(CHUNK, 0x6e)
  for (let sent = 0; sent < TOTAL; sent += CHUNK) {
    if (sent === Math.floor((TOTAL * 0.6) / CHUNK) * CHUNK) await release
    yield chunk
  }
}

/** Upload 256 MiB to `name` and kill -9 the server when about half has reached its temp file. */
async function killHalfway(server: ServerHandle, name: string): Promise<void> {
  const client = await TestClient.connect(server.port)
  let release!: () => void
  const released = new Promise<void>((resolve) => (release = resolve))
  const reply = client.upload(name, hugeBody(released))
  try {
    await waitFor(() => tempBytes(server.root) >= TOTAL / 2 - 16 * MiB, {
      timeoutMs: 60_000,
      intervalMs: 5,
      what: 'half the upload on disk',
    })
    const atKill = tempBytes(server.root)
    await server.kill9()
    expect(atKill).toBeGreaterThan(TOTAL / 4)
    expect(atKill).toBeLessThan(TOTAL)
  } finally {
    release()
  }
  expect((await reply).ok).toBe(false)
}

async function restartAndCheckClean(
  server: ServerHandle,
): Promise<{ next: ServerHandle; names: string[] }> {
  const next = await server.restart()
  // Startup removed the leftovers before it began to serve.
  expect(tempFilesIn(next.root)).toEqual([])
  const client = await TestClient.connect(next.port)
  const names = (await client.list()).result!.files.map((f) => f.name)
  await client.close()
  expect(names.filter((n) => n.includes('.tandem-tmp-'))).toEqual([])
  return { next, names }
}

describe('kill -9 during a 256 MiB upload', () => {
  it('a new file: absent after the restart, and no temp file remains', async () => {
    const server = await startServer()
    await killHalfway(server, 'huge.bin')
    expect(tempFilesIn(server.root).length).toBeGreaterThan(0) // the crash did leave one behind
    const { names } = await restartAndCheckClean(server)
    expect(names).not.toContain('huge.bin')
    expect(existsSync(path.join(server.root, 'huge.bin'))).toBe(false)
  }, 180_000)

  it('replacing a file: the old version, whole, after the restart', async () => {
    const server = await startServer()
    const old = Buffer.alloc(3 * MiB + 17, 'old version ')
    const client = await TestClient.connect(server.port)
    expect((await client.upload('data/huge.bin', old)).ok).toBe(true)
    await client.close()
    await killHalfway(server, 'data/huge.bin')
    const { next, names } = await restartAndCheckClean(server)
    expect(names).toContain('data/huge.bin')
    const onDisk = readFileSync(path.join(next.root, 'data/huge.bin'))
    expect(createHash('sha256').update(onDisk).digest('hex')).toBe(
      createHash('sha256').update(old).digest('hex'),
    )
    const reader = await TestClient.connect(next.port)
    const download = await reader.download('data/huge.bin')
    expect(download.body?.equals(old)).toBe(true)
    await reader.close()
  }, 180_000)

  it('an acknowledged upload survives a kill -9 right after its answer', async () => {
    const server = await startServer()
    const client = await TestClient.connect(server.port)
    const body = Buffer.alloc(2 * MiB, 'acknowledged ')
    expect((await client.upload('acked.bin', body)).ok).toBe(true)
    await server.kill9()
    const { next } = await restartAndCheckClean(server)
    expect(readFileSync(path.join(next.root, 'acked.bin')).equals(body)).toBe(true)
  })
})
