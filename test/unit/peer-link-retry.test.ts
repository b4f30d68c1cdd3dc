// A link whose peer is down sleeps between tries, longer each time (up to 5 s). When that peer
// dials this server (it came back), retryNow ends the sleep: the next try comes at once, not after
// the backoff. A real TCP listener that takes each connection and ends it (the peer "down").
import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import type { FileIndex } from '../../src/server/index/file-index.js'
import type { Applier } from '../../src/server/sync/applier.js'
import { PeerLink } from '../../src/server/sync/peer-link.js'
import { waitFor } from '../helpers/index.js'

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup()
})

describe('PeerLink.retryNow', () => {
  it('ends the backoff sleep of a link that is down: the next try comes at once', async () => {
    const tries: number[] = []
    const listener = net.createServer((socket) => {
      tries.push(Date.now())
      socket.destroy()
    })
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
    cleanups.push(() => listener.close())
    const { port } = listener.address() as net.AddressInfo
    const link = new PeerLink({
      address: `127.0.0.1:${port}`,
      self: 'A',
      clusterKey: null,
      index: { peerNameAt: () => undefined, peerAcked: () => undefined } as unknown as FileIndex,
      applier: {} as Applier,
      peerTimeoutMs: 2_000,
      onUp: () => undefined,
      onDown: () => undefined,
      onClockSkew: () => undefined,
      warn: () => undefined,
    })
    link.start()
    cleanups.push(() => link.stop())
    // Five failed tries (sleeps of 0.2, 0.4, 0.8, 1.6 s between them): the next sleep is 3.2 s.
    await waitFor(() => tries.length >= 5, { what: 'five tries', timeoutMs: 15_000 })
    const fifth = tries.length
    // Told (again and again, so that one call lands in the sleep) that the peer is back.
    const timer = setInterval(() => link.retryNow(), 50)
    cleanups.push(() => clearInterval(timer))
    await waitFor(() => tries.length > fifth, {
      what: 'a try before the 3.2 s backoff is over',
      timeoutMs: 2_500,
    })
    expect(tries.length).toBeGreaterThan(fifth)
  }, 30_000)
})
