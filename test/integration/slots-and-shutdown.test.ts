// Client slots are never leaked by clients that vanish at any stage; a shutdown during transfers
// exits cleanly and leaves no temp file.
import { describe, expect, it } from 'vitest'
import { encodeControl, encodePreamble, Limits } from '../../src/protocol/index.js'
import { rawConnect, startServer, tempFilesIn, TestClient, waitFor } from '../helpers/index.js'

describe('slots', () => {
  it('clients that vanish before, during and after the handshake or mid-transfer free their slots', async () => {
    const server = await startServer()
    const observer = await TestClient.connect(server.port, { clientId: 'observer' })
    expect((await observer.upload('file.bin', Buffer.alloc(4 * 1024 * 1024, 1))).ok).toBe(true)
    for (let round = 0; round < 4; round++) {
      const conns = await Promise.all(Array.from({ length: 8 }, () => rawConnect(server.port)))
      await Promise.all(
        conns.map(async (conn, i) => {
          const stage = i % 4
          if (stage >= 1) await conn.send(encodePreamble())
          if (stage >= 2)
            await conn.send(encodeControl({ type: 'hello', role: 'client', id: `v${i}` }))
          if (stage === 3) {
            await conn.send(
              encodeControl({ id: 1, op: i % 8 === 3 ? 'download' : 'upload', name: 'file.bin' }),
            )
            await conn.sendBody(Buffer.alloc(Limits.dataChunk, 2), { end: false })
          }
          conn.destroy()
        }),
      )
    }
    await waitFor(async () => (await observer.status()).result?.clients.connected === 1, {
      what: 'every slot back',
    })
    // All nine slots usable.
    const eight = await Promise.all(
      Array.from({ length: 8 }, () => TestClient.connect(server.port)),
    )
    expect((await TestClient.tryConnect(server.port)).error?.code).toBe('ERR_BUSY')
    await Promise.all([observer, ...eight].map((c) => c.close()))
    await waitFor(() => tempFilesIn(server.root).length === 0, { what: 'no temp file' })
  })
})

describe('shutdown', () => {
  it('SIGTERM while uploads are in flight: exit 0, and no temp file is left behind', async () => {
    const server = await startServer()
    const uploaders = await Promise.all(Array.from({ length: 3 }, () => rawConnect(server.port)))
    for (const [i, conn] of uploaders.entries()) {
      await conn.sendPreamble()
      await conn.sendControl({ type: 'hello', role: 'client', id: `u${i}` })
      await conn.sendControl({ id: 1, op: 'upload', name: `partial-${i}.bin` })
      await conn.sendBody(Buffer.alloc(2 * Limits.dataChunk, i), { end: false })
    }
    await waitFor(() => tempFilesIn(server.root).length === 3, { what: 'three uploads under way' })
    expect(await server.stop('SIGTERM')).toBe(0)
    expect(tempFilesIn(server.root)).toEqual([])
  })
})
