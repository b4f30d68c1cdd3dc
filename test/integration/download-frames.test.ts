// How a download leaves the server: whole 1 MiB data frames and a short last one for a big file,
// a single frame of the body's own size for a small one (its buffer sized to the body, not to a
// frame), none for an empty file, then the end frame with the body's SHA-256. Sizes around the
// frame's edges, each downloaded twice on one connection (the second time from recycled buffers).
import { createHash, randomBytes } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { Limits } from '../../src/protocol/index.js'
import { rawConnect, startServer, TestClient, type ServerHandle } from '../helpers/index.js'

const FRAME = Limits.maxData // 1 MiB

describe('download frames', () => {
  let server: ServerHandle
  const sizes = [0, 1, 4096, FRAME - 1, FRAME, FRAME + 1, 3 * FRAME + 5]
  const contents = new Map(sizes.map((size) => [size, randomBytes(size)]))

  beforeAll(async () => {
    server = await startServer()
    const client = await TestClient.connect(server.port)
    for (const [size, content] of contents)
      expect((await client.upload(`f-${size}.bin`, content)).ok).toBe(true)
    await client.close()
  })

  it('sends whole frames, a short last one, and the SHA-256 of what it sent', async () => {
    const conn = await rawConnect(server.port)
    await conn.sendPreamble()
    await conn.sendControl({ type: 'hello', role: 'client', id: 'frames' })
    expect((await conn.nextControl()).type).toBe('welcome')
    let id = 1
    for (let round = 0; round < 2; round++) {
      for (const [size, content] of contents) {
        await conn.sendControl({ id, op: 'download', name: `f-${size}.bin` })
        const ok = await conn.nextControl()
        expect(ok).toMatchObject({ id, ok: true })
        id++
        const lengths: number[] = []
        const pieces: Buffer[] = []
        for (;;) {
          const frame = await conn.next(10_000)
          if (frame.kind === 'end') {
            expect(frame.sha256.equals(createHash('sha256').update(content).digest())).toBe(true)
            break
          }
          if (frame.kind !== 'data') throw new Error(`unexpected ${frame.kind} frame`)
          lengths.push(frame.bytes.length)
          pieces.push(frame.bytes)
        }
        expect(Buffer.concat(pieces).equals(content)).toBe(true)
        const whole = Math.floor(size / FRAME)
        const expected = [
          ...Array<number>(whole).fill(FRAME),
          ...(size % FRAME ? [size % FRAME] : []),
        ]
        expect(lengths).toEqual(expected)
      }
    }
    conn.destroy()
  })
})
