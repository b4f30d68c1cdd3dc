// Review of issue 14's small-file path and socket reads: uploads at and around the 64 KiB limit,
// announced sizes that lie, bodies in odd frames, and a byte stream cut into odd socket writes
// (frame boundaries anywhere inside the server's pooled read buffers). Found no bug: these pass
// on main and guard the edges (a mis-framed read fails with ERR_INTEGRITY or ERR_BAD_FRAME, a
// lying size stored or a temp file left fails the first test).
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { encodeControl, encodeData, encodeEnd, encodePreamble } from '../src/protocol/index.js'
import { filesIn, rawConnect, startServer, tempFilesIn, TestClient } from './helpers/index.js'

const sha = (body: Buffer) => createHash('sha256').update(body).digest()
const bodyOf = (size: number, seed = 1): Buffer => {
  const b = Buffer.alloc(size)
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed * 7) & 0xff
  return b
}
/** Data frames of the given sizes (cycled), then the end frame. */
function framed(body: Buffer, sizes: number[], end = sha(body)): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let offset = 0, i = 0; offset < body.length; i++) {
    const n = sizes[i % sizes.length]!
    out.push(...encodeData(body.subarray(offset, offset + n)))
    offset += n
  }
  out.push(encodeEnd(end))
  return out
}

describe('small uploads at the edges', () => {
  it('sizes 0, 64 KiB, 64 KiB + 1 stored; lying sizes refused; the stream stays in step', async () => {
    const server = await startServer()
    try {
      const client = await TestClient.connect(server.port)
      const K64 = 64 * 1024
      const cases: { name: string; body: Buffer; size: number; frames?: number[]; ok: boolean }[] =
        [
          { name: 'zero', body: Buffer.alloc(0), size: 0, ok: true },
          { name: 'exact', body: bodyOf(K64), size: K64, ok: true },
          { name: 'over', body: bodyOf(K64 + 1), size: K64 + 1, ok: true },
          { name: 'odd', body: bodyOf(K64, 3), size: K64, frames: [1, 7, 4093, 2], ok: true },
          { name: 'one-more', body: bodyOf(K64 + 1), size: K64, ok: false },
          { name: 'zero-lie', body: bodyOf(1), size: 0, ok: false },
          { name: 'much-more', body: bodyOf(3 * 1024 * 1024), size: K64, ok: false },
          { name: 'less', body: bodyOf(K64 - 1), size: K64, ok: false },
          { name: 'after', body: bodyOf(100, 9), size: 100, ok: true },
        ]
      const replies = cases.map((c) =>
        client.upload(c.name, { raw: framed(c.body, c.frames ?? [256 * 1024]) }, { size: c.size }),
      )
      const answers = await Promise.all(replies)
      const onDisk = filesIn(server.root)
      cases.forEach((c, i) => {
        const a = answers[i]!
        if (c.ok) {
          expect(a.ok, `${c.name}: ${JSON.stringify(a.error)}`).toBe(true)
          expect(onDisk.get(c.name)?.equals(c.body), c.name).toBe(true)
        } else {
          expect(a.error?.code, c.name).toBe('ERR_INTEGRITY')
          expect(onDisk.has(c.name), c.name).toBe(false)
        }
      })
      expect(tempFilesIn(server.root)).toEqual([])
      await client.close()
    } finally {
      await server.stop()
    }
  })

  it('a stream cut into odd socket writes (frames split across reads) is read right', async () => {
    const server = await startServer()
    try {
      const conn = await rawConnect(server.port)
      conn.socket.setNoDelay(true)
      await conn.sendPreamble()
      await conn.sendControl({ type: 'hello', role: 'client', id: 'odd-writes' })
      expect((await conn.nextControl(15_000)).type).toBe('welcome')
      const bodies = [bodyOf(10, 1), bodyOf(70_000, 2), bodyOf(1, 3), bodyOf(700_000, 4)]
      const bytes: Buffer[] = []
      bodies.forEach((body, i) => {
        bytes.push(encodeControl({ id: 100 + i, op: 'upload', name: `s${i}`, size: body.length }))
        bytes.push(...framed(body, [5, 65_536, 3, 300_000]).map((b) => Buffer.from(b)))
      })
      const all = Buffer.concat(bytes)
      // Writes of odd sizes, each waited for, so that the server reads them apart.
      const sizes = [1, 2, 3, 4097, 13, 262_143, 262_145, 9, 100_003]
      const answers = new Map<number, { ok: boolean }>()
      const done = new Promise<void>((resolve, reject) => {
        const loop = async () => {
          for (;;) {
            const m = (await conn.nextControl(60_000)) as { id: number; ok: boolean }
            answers.set(m.id, m)
            if (answers.size === bodies.length) return resolve()
          }
        }
        loop().catch(reject)
      })
      for (let offset = 0, i = 0; offset < all.length; i++) {
        const n = sizes[i % sizes.length]!
        await new Promise<void>((resolve, reject) =>
          conn.socket.write(all.subarray(offset, offset + n), (err) =>
            err ? reject(err) : resolve(),
          ),
        )
        offset += n
      }
      await done
      const onDisk = filesIn(server.root)
      bodies.forEach((body, i) => {
        expect(answers.get(100 + i)?.ok, `s${i}`).toBe(true)
        expect(onDisk.get(`s${i}`)?.equals(body), `s${i}`).toBe(true)
      })
      conn.destroy()
    } finally {
      await server.stop()
    }
  })

  // 3 MB bodies written as fast as the socket takes them: the bridge pauses the socket while the
  // worker writes, with frames cut at every offset of its 256 KiB buffers.
  it('a fast stream of big and small bodies in odd writes, through pause and resume', async () => {
    const server = await startServer()
    try {
      const conn = await rawConnect(server.port)
      await conn.sendPreamble()
      await conn.sendControl({ type: 'hello', role: 'client', id: 'probe' })
      expect((await conn.nextControl(15_000)).type).toBe('welcome')
      const bodies: Buffer[] = []
      for (let i = 0; i < 40; i++)
        bodies.push(bodyOf(i % 5 === 0 ? 3_000_000 + i : (i * 7919) % 70_000, i))
      const bytes: Buffer[] = []
      bodies.forEach((body, i) => {
        bytes.push(encodeControl({ id: 100 + i, op: 'upload', name: `p${i}`, size: body.length }))
        for (let o = 0, k = 0; o < body.length; k++) {
          const n = [262_144, 1, 100_000, 262_143][k % 4]!
          bytes.push(...encodeData(body.subarray(o, o + n)).map((b) => Buffer.from(b)))
          o += n
        }
        bytes.push(Buffer.from(encodeEnd(sha(body))))
      })
      const all = Buffer.concat(bytes)
      const answers = new Map<number, Record<string, unknown>>()
      const done = (async () => {
        while (answers.size < bodies.length) {
          const m = await conn.nextControl(120_000)
          answers.set(m.id as number, m)
        }
      })()
      const sizes = [3, 1_000_003, 65_537, 7, 4_194_305]
      for (let o = 0, i = 0; o < all.length; i++) {
        const n = sizes[i % sizes.length]!
        await conn.send(all.subarray(o, o + n))
        o += n
      }
      await done
      const onDisk = filesIn(server.root)
      bodies.forEach((body, i) => {
        expect(answers.get(100 + i)?.ok, `p${i} ${JSON.stringify(answers.get(100 + i))}`).toBe(true)
        expect(onDisk.get(`p${i}`)?.equals(body), `p${i}`).toBe(true)
      })
      conn.destroy()
    } finally {
      await server.stop()
    }
  }, 180_000)

  // Bytes read by the hello gate past the hello go to the session first, then the socket reads
  // into the pooled buffers (net/socket-reads.ts) from where they left off.
  for (const restSize of [10, 200_000]) {
    it(`requests and bodies in the hello's own write (${restSize} bytes)`, async () => {
      const server = await startServer()
      try {
        const conn = await rawConnect(server.port)
        const b1 = Buffer.alloc(restSize, 7)
        const b2 = Buffer.alloc(1_000_000, 9)
        const all = Buffer.concat([
          Buffer.from(encodePreamble()),
          Buffer.from(encodeControl({ type: 'hello', role: 'client', id: 'rest' })),
          Buffer.from(encodeControl({ id: 1, op: 'upload', name: 'r1', size: b1.length })),
          ...encodeData(b1).map((b) => Buffer.from(b)),
          Buffer.from(encodeEnd(sha(b1))),
          Buffer.from(encodeControl({ id: 2, op: 'upload', name: 'r2', size: b2.length })),
          ...[0, 1, 2, 3].flatMap((k) =>
            encodeData(b2.subarray(k * 250_000, (k + 1) * 250_000)).map((b) => Buffer.from(b)),
          ),
          Buffer.from(encodeEnd(sha(b2))),
        ])
        await conn.send(all)
        expect((await conn.nextControl(15_000)).type).toBe('welcome')
        const a = await conn.nextControl(30_000)
        const b = await conn.nextControl(30_000)
        expect([a.ok, b.ok], JSON.stringify([a, b])).toEqual([true, true])
        const onDisk = filesIn(server.root)
        expect(onDisk.get('r1')?.equals(b1)).toBe(true)
        expect(onDisk.get('r2')?.equals(b2)).toBe(true)
        conn.destroy()
      } finally {
        await server.stop()
      }
    }, 60_000)
  }
})
