// The index channel's handshake must be mutual from the connecting side too: a server with a
// cluster key that opens an index channel applies nothing its acceptor sends before that acceptor
// proved the key (challenge) and welcomed it. Here the acceptor of the index channel skips the
// challenge and the welcome and pushes a tombstone straight away: the connecting server must
// refuse it (ERR_AUTH to it, nothing applied) and keep its file.
import { existsSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import type { FramedSocket } from '../../src/server/sync/framed-socket.js'
import { TestClient, tempDir, waitFor } from '../helpers/index.js'
import { serverFollowing, startFakePeer, type FakePeer } from '../helpers/fake-peer.js'

const KEY = 'cmV2aWV3IGtleSBmb3IgdGhlIGluZGV4IGNoYW5uZWwncyBoYW5kc2hha2U='

interface IndexAuthPeer extends FakePeer {
  /** Messages the server sent on the index channel. */
  indexMessages: Record<string, unknown>[]
  indexClosed: boolean
  indexOpened: boolean
  /** Push these messages on the index channel (once it is open). */
  push(messages: unknown[]): void
}

/**
 * A peer 'F' whose control port proves the key honestly, and whose file-exchange port's index
 * channel does not: it never challenges, never welcomes, and sends what the test pushes.
 */
async function fakePeer(): Promise<IndexAuthPeer> {
  let index: FramedSocket | undefined
  const seen = {
    indexMessages: [] as Record<string, unknown>[],
    indexClosed: false,
    indexOpened: false,
  }
  const peer = await startFakePeer({
    key: KEY,
    onExchange(framed, m) {
      if (m['type'] === 'peer-hello' && m['channel'] === 'index') {
        index = framed
        seen.indexOpened = true
        return
      }
      if (framed === index) seen.indexMessages.push(m)
    },
    onExchangeClose(framed) {
      if (framed === index) seen.indexClosed = true
    },
  })
  return Object.defineProperties(peer, {
    indexMessages: { get: () => seen.indexMessages },
    indexClosed: { get: () => seen.indexClosed },
    indexOpened: { get: () => seen.indexOpened },
    push: {
      value: (messages: unknown[]) => {
        for (const message of messages) index?.send(message)
      },
    },
  }) as IndexAuthPeer
}

describe('the index channel at the connecting side', () => {
  it('applies nothing from an acceptor that skipped the key’s proof', async () => {
    const f = await fakePeer()
    const keyFile = path.join(tempDir('tandem-review-index-auth-'), 'cluster.key')
    writeFileSync(keyFile, `${KEY}\n`)
    const server = await serverFollowing(f, ['--cluster-key', keyFile])
    writeFileSync(path.join(server.root, 'victim.txt'), 'keep me\n')
    await server.start()
    // A has indexed its file, and its link to F reached F's index channel.
    await waitFor(
      async () => {
        const client = await TestClient.connect(server.port, { clientId: 'review' })
        try {
          const reply = await client.list()
          return reply.ok && JSON.stringify(reply.result).includes('victim.txt')
        } finally {
          await client.close()
        }
      },
      { timeoutMs: 20_000, intervalMs: 100, what: 'A to list victim.txt' },
    )
    await waitFor(() => f.indexOpened, { timeoutMs: 20_000, what: 'A to open the index channel' })

    // No challenge, no welcome: a tombstone that dominates A's version, and a heartbeat.
    f.push([
      {
        type: 'entries',
        epoch: 'forged-epoch',
        seq: 1,
        entries: [
          {
            name: 'victim.txt',
            size: 0,
            mtime: Date.now(),
            hash: null,
            deleted: true,
            version: { A: 1_000_000, F: 1 },
            origin: 'F',
            seq: 1,
          },
        ],
      },
      { type: 'heartbeat', time: Date.now(), seq: 1 },
    ])

    // A either acknowledges (it applied the batch) or refuses and closes the channel.
    await waitFor(() => f.indexClosed || f.indexMessages.some((m) => m['type'] === 'ack'), {
      timeoutMs: 20_000,
      intervalMs: 50,
      what: 'A to answer the unproven batch',
    })
    expect(existsSync(path.join(server.root, 'victim.txt'))).toBe(true)
    expect(f.indexMessages.filter((m) => m['type'] === 'ack')).toEqual([])
    expect(f.indexMessages).toContainEqual(
      expect.objectContaining({
        type: 'error',
        error: expect.objectContaining({ code: 'ERR_AUTH' }),
      }),
    )
  })
})
