// How bodies are buffered, against the hand-made server: local files go out a 1 MiB block per
// data frame (small ones read whole), whatever happened to them since they were planned;
// downloads are staged into blocks, recycled only for file write streams, and a trickle or a
// dropped connection still reaches the sink.
import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { Readable, Writable } from 'node:stream'
import { finished } from 'node:stream/promises'
import { afterEach, describe, expect, it } from 'vitest'
import type { Connection } from '../../src/client/connection.js'
import { FileBody } from '../../src/client/file-body.js'
import { putFiles, uploadFile } from '../../src/client/transfer.js'
import { Limits } from '../../src/protocol/index.js'
import { tempDir } from '../helpers/index.js'
import { codeOf, fakeServerFixture } from './fake-server.js'

const MiB = 1024 * 1024
const fake = fakeServerFixture('t')
afterEach(() => fake.teardown())
const setup = fake.setup

/** The data frame lengths the server received for the upload of `name`. */
function frameLengths(name: string): number[] {
  const received = fake.server!.received
  const start = received.findIndex((r) => r.kind === 'control' && r.message.name === name)
  const lengths: number[] = []
  for (const r of received.slice(start + 1)) {
    if (r.kind !== 'data') break
    lengths.push(r.length)
  }
  return lengths
}

/** A Writable that keeps the very buffers it is given (no copy). */
function keepingSink(): { sink: Writable; chunks: Buffer[] } {
  const chunks: Buffer[] = []
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk)
      callback()
    },
  })
  return { sink, chunks }
}

describe('uploads of local files', () => {
  it('sends one data frame per block of up to 1 MiB, small files included', async () => {
    const c = await setup()
    const dir = tempDir()
    const sizes = [0, 10, 64 * 1024, 64 * 1024 + 1, MiB, MiB + 1, 2.5 * MiB]
    for (const size of sizes) {
      const content = randomBytes(size)
      const file = path.join(dir, `f${size}`)
      await fs.writeFile(file, content)
      await uploadFile(c, file, `f${size}`)
      expect(fake.server!.files.get(`f${size}`)!.equals(content)).toBe(true)
    }
    expect(frameLengths('f0')).toEqual([])
    expect(frameLengths('f10')).toEqual([10])
    expect(frameLengths(`f${MiB + 1}`)).toEqual([MiB, 1])
    expect(frameLengths(`f${2.5 * MiB}`)).toEqual([MiB, MiB, MiB / 2])
    expect(Limits.maxData).toBeGreaterThanOrEqual(MiB)
  })

  it('sends a file as it is when its turn comes, even if it grew or shrank since planned', async () => {
    const c = await setup()
    const dir = tempDir()
    const cases = [
      { name: 'grew-small', planned: 10, actual: 100_000 },
      { name: 'shrank-small', planned: 1000, actual: 10 },
      { name: 'shrank-large', planned: 2 * MiB, actual: 1.5 * MiB },
      { name: 'grew-large', planned: MiB, actual: MiB + 5 },
    ]
    const contents = new Map<string, Buffer>()
    const items = []
    for (const { name, planned, actual } of cases) {
      const content = randomBytes(actual)
      contents.set(name, content)
      await fs.writeFile(path.join(dir, name), content)
      items.push({ local: path.join(dir, name), name, size: planned, mtime: 1 })
    }
    await putFiles(c, items)
    for (const [name, content] of contents)
      expect(fake.server!.files.get(name)!.equals(content)).toBe(true)
  })

  it('fails a file that vanished before its turn with nothing sent, small or large', async () => {
    const c = await setup()
    const dir = tempDir()
    for (const size of [10, 10 * MiB]) {
      const item = { local: path.join(dir, 'gone'), name: `gone-${size}`, size, mtime: 1 }
      expect(await codeOf(putFiles(c, [item]))).toBe('ERR_NOT_FOUND')
      expect(
        fake.server!.received.some((r) => r.kind === 'control' && r.message.name === item.name),
      ).toBe(false)
    }
    await expect(c.ping()).resolves.toEqual({})
  })

  it('reads as a plain Readable too, small or large', async () => {
    const dir = tempDir()
    for (const size of [10, 2.5 * MiB]) {
      const content = randomBytes(size)
      const file = path.join(dir, `r${size}`)
      await fs.writeFile(file, content)
      const chunks = (await new FileBody(file, size).toArray()) as Buffer[]
      expect(Buffer.concat(chunks).equals(content)).toBe(true)
    }
  })

  it('fails a body whose opening outlives the connection, instead of hanging', async () => {
    const c = await setup()
    let open: ((body: Readable) => void) | undefined
    const upload = c.upload('late', () => new Promise<Readable>((resolve) => (open = resolve)))
    await expect.poll(() => open).toBeDefined()
    const closed = new Promise((resolve) => c.onClose(resolve))
    for (const socket of fake.server!.sockets) socket.destroy()
    await closed
    open!(Readable.from([Buffer.from('late')]))
    expect(await codeOf(upload)).toBe('ERR_CONNECTION_CLOSED')
  })
})

describe('downloads', () => {
  it('writes into file write streams correctly, download after download', async () => {
    const [c1, c2] = [await setup(), await setup()]
    const a = randomBytes(3 * MiB + 5)
    const b = randomBytes(1.5 * MiB)
    fake.server!.files.set('a', a).set('b', b)
    const dir = tempDir()
    let n = 0
    const get = async (conn: Connection, name: string): Promise<Buffer> => {
      const out = path.join(dir, `out-${n++}`)
      const sink = createWriteStream(out)
      await conn.download(name, sink)
      await finished(sink)
      return fs.readFile(out)
    }
    for (let round = 0; round < 2; round++) {
      // Two connections at once share the recycled blocks.
      const [gotA, gotB] = await Promise.all([get(c1, 'a'), get(c2, 'b')])
      expect(gotA.equals(a)).toBe(true)
      expect(gotB.equals(b)).toBe(true)
      expect((await get(c1, 'b')).equals(b)).toBe(true)
    }
  })

  it('gives any other sink buffers of its own, never reused', async () => {
    const c = await setup()
    const a = randomBytes(2 * MiB + 3)
    const b = randomBytes(2 * MiB + 3)
    fake.server!.files.set('a', a).set('b', b)
    const first = keepingSink()
    const second = keepingSink()
    await c.download('a', first.sink)
    await c.download('b', second.sink)
    expect(Buffer.concat(first.chunks).equals(a)).toBe(true)
    expect(Buffer.concat(second.chunks).equals(b)).toBe(true)
  })

  it('passes a trickle on without waiting for a full block, and keeps it when the connection drops', async () => {
    const c = await setup({ stallDownloadAfter: 1000 })
    fake.server!.files.set('slow', randomBytes(3 * MiB))
    const { sink, chunks } = keepingSink()
    const download = c.download('slow', sink)
    const received = () => chunks.reduce((sum, chunk) => sum + chunk.length, 0)
    await expect.poll(received).toBe(1000)
    for (const socket of fake.server!.sockets) socket.destroy()
    expect(await codeOf(download)).toBe('ERR_CONNECTION_CLOSED')
    expect(Buffer.concat(chunks).equals(fake.server!.files.get('slow')!.subarray(0, 1000))).toBe(
      true,
    )
  })
})
