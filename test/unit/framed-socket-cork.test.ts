// framed-socket.ts on real loopback sockets: the frames sent in one turn of the event loop are
// written together (corked until the check phase), and still arrive whole and in order — control
// messages, small and big data pieces and end frames mixed — and a lone frame is not held back.
import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { FramedSocket } from '../../src/server/sync/framed-socket.js'
import { socketPair, waitFor } from '../helpers/index.js'

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const c of cleanups.splice(0)) c()
})

type Got = { control: unknown } | { data: Buffer } | { end: Buffer }

async function pair(): Promise<{ sender: FramedSocket; got: Got[]; writes: () => number }> {
  const { client, accepted: socket, close } = await socketPair()
  const got: Got[] = []
  const receiver = new FramedSocket(
    socket,
    {
      onControl: (control) => got.push({ control }),
      onData: (piece) => got.push({ data: Buffer.from(piece) }),
      onEnd: (sha) => got.push({ end: Buffer.from(sha) }),
      onClose: () => undefined,
    },
    { serving: true, maxControl: 1024 * 1024 },
  )
  const sender = new FramedSocket(client, { onControl: () => undefined, onClose: () => undefined })
  // Count the writes the sender's stream hands to the kernel (one per writev when corked).
  let writes = 0
  const raw = client as unknown as { _writeGeneric: (...args: unknown[]) => unknown }
  const original = raw._writeGeneric.bind(client)
  raw._writeGeneric = (...args: unknown[]) => {
    writes++
    return original(...args)
  }
  cleanups.push(() => {
    sender.destroy()
    receiver.destroy()
    close()
  })
  return { sender, got, writes: () => writes }
}

describe('FramedSocket corking', () => {
  it('writes one turn of frames together, and they arrive whole and in order', async () => {
    const { sender, got, writes } = await pair()
    await new Promise((resolve) => setImmediate(resolve)) // the preamble has gone
    const before = writes()
    const small = randomBytes(1000)
    const sha = randomBytes(32)
    for (let i = 0; i < 200; i++) sender.send({ type: 'fetch', id: i, name: `f${i}` })
    void sender.sendData(small)
    sender.sendEnd(sha)
    await waitFor(() => got.length === 202, { timeoutMs: 10_000 })
    expect(got.slice(0, 200)).toEqual(
      Array.from({ length: 200 }, (_, i) => ({ control: { type: 'fetch', id: i, name: `f${i}` } })),
    )
    expect(got[200]).toEqual({ data: small })
    expect(got[201]).toEqual({ end: sha })
    // 202 frames, one writev (a few at most, should the stream split it).
    expect(writes() - before).toBeLessThanOrEqual(3)
  })

  it('sends a big piece at once, after what was corked before it', async () => {
    const { sender, got } = await pair()
    const big = randomBytes(256 * 1024)
    sender.send({ type: 'content', id: 1 })
    const sent = sender.sendData(big)
    sender.sendEnd(Buffer.alloc(32, 7))
    await sent
    await waitFor(() => got.some((g) => 'end' in g), { timeoutMs: 10_000 })
    expect(got[0]).toEqual({ control: { type: 'content', id: 1 } })
    const data = Buffer.concat(got.flatMap((g) => ('data' in g ? [g.data] : [])))
    expect(data.equals(big)).toBe(true)
    expect(got.at(-1)).toEqual({ end: Buffer.alloc(32, 7) })
  })

  it('does not hold a lone frame back', async () => {
    const { sender, got } = await pair()
    sender.send({ type: 'ping' })
    await waitFor(() => got.length === 1, { timeoutMs: 10_000 })
    expect(got[0]).toEqual({ control: { type: 'ping' } })
  })
})
