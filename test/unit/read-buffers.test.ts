import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { IdleCollector } from '../../src/server/workers/idle-collect.js'
import {
  dropSpareReadBuffers,
  giveBackReadBuffer,
  MAX_SPARE,
  READ_BUFFER_BYTES,
  SPARE_IDLE_MS,
  spareReadBuffers,
  takeReadBuffer,
  withReadBuffer,
} from '../../src/server/storage/read-buffers.js'
import { hashFile } from '../../src/server/watch/disk-probe.js'

const dirs: string[] = []
async function until(ok: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

afterEach(() => {
  dropSpareReadBuffers()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe('read buffers', () => {
  it('a buffer given back twice is still handed out once', () => {
    dropSpareReadBuffers()
    const a = takeReadBuffer()
    giveBackReadBuffer(a)
    giveBackReadBuffer(a) // the pool has room: only the check keeps it from two users
    expect(spareReadBuffers()).toBe(1)
    const [first, second] = [takeReadBuffer(), takeReadBuffer()]
    expect(first).toBe(a)
    expect(second).not.toBe(a)
  })

  it('lets the spare buffers go once nothing was read for a while', async () => {
    dropSpareReadBuffers()
    giveBackReadBuffer(takeReadBuffer())
    expect(spareReadBuffers()).toBe(1)
    const since = Date.now()
    await until(() => spareReadBuffers() === 0, 'the spare buffers let go')
    expect(Date.now() - since).toBeGreaterThanOrEqual(SPARE_IDLE_MS - 50)
  })

  it('gives a returned buffer out again, keeps at most four, never one twice', () => {
    dropSpareReadBuffers()
    expect(MAX_SPARE).toBe(4)
    const taken = [takeReadBuffer(), takeReadBuffer(), takeReadBuffer(), takeReadBuffer()]
    const extra = takeReadBuffer()
    for (const buf of [...taken, extra]) expect(buf.length).toBe(READ_BUFFER_BYTES)
    for (const buf of [...taken, extra]) giveBackReadBuffer(buf)
    giveBackReadBuffer(taken[0]!) // twice: must not be handed to two users
    giveBackReadBuffer(Buffer.alloc(10)) // not of the pool's size: ignored
    const again = [takeReadBuffer(), takeReadBuffer(), takeReadBuffer(), takeReadBuffer()]
    expect(new Set(again).size).toBe(4)
    for (const buf of again) expect(taken.includes(buf) || buf === extra).toBe(true)
    const fifth = takeReadBuffer()
    expect([...taken, extra].includes(fifth)).toBe(false)
    for (const buf of [...again, fifth]) giveBackReadBuffer(buf)
  })

  it('gives the buffer back when the use throws', async () => {
    let used: Buffer | undefined
    await expect(
      withReadBuffer(async (buf) => {
        used = buf
        throw new Error('read failed')
      }),
    ).rejects.toThrow('read failed')
    expect(spareReadBuffers()).toBeGreaterThan(0)
    expect(takeReadBuffer()).toBe(used)
    giveBackReadBuffer(used!)
  })

  it('hashes files bigger than a buffer the same, each time, with reused buffers', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tandem-read-buffers-'))
    dirs.push(dir)
    for (const size of [READ_BUFFER_BYTES - 1, READ_BUFFER_BYTES, 3 * READ_BUFFER_BYTES + 17]) {
      const bytes = randomBytes(size)
      const file = path.join(dir, `f${size}`)
      writeFileSync(file, bytes)
      const expected = createHash('sha256').update(bytes).digest('hex')
      // Several at once share the pool: none may read into another's buffer.
      const hashes = await Promise.all([1, 2, 3].map(() => hashFile(file, size)))
      expect(hashes).toEqual([expected, expected, expected])
    }
  })
})

describe('IdleCollector begin / end', () => {
  it('collects once after the last of overlapping sessions ends, not while one runs', async () => {
    let collects = 0
    const collector = new IdleCollector({
      idleMs: 10,
      minBytes: 0,
      arrayBufferBytes: () => 1,
      collect: () => collects++,
    })
    collector.begin()
    collector.begin()
    collector.end()
    expect(collector.scheduled).toBe(false)
    collector.end()
    expect(collector.scheduled).toBe(true)
    collector.begin() // a client back at once: no collect
    expect(collector.scheduled).toBe(false)
    collector.end()
    const deadline = Date.now() + 5_000
    while (collects === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
    expect(collects).toBe(1)
  })

  it("the real collect lets the thread's spare read buffers go first", async () => {
    giveBackReadBuffer(takeReadBuffer())
    const collector = new IdleCollector({ idleMs: 10, minBytes: 0 })
    collector.begin()
    collector.end()
    await until(() => collector.collects === 1, 'the collect')
    expect(spareReadBuffers()).toBe(0)
  })
})
