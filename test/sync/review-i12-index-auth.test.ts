// The index channel's handshake must be mutual from the connecting side too: a server with a
// cluster key that opens an index channel applies nothing its acceptor sends before that acceptor
// proved the key (challenge) and welcomed it. Here the acceptor of the index channel skips the
// challenge and the welcome and pushes a tombstone straight away: the connecting server must
// refuse it (ERR_AUTH to it, nothing applied) and keep its file.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { afterEach, describe, expect, it, onTestFailed } from 'vitest'
import { acceptPeer, type PeerAcceptance } from '../../src/protocol/index.js'
import { FramedSocket } from '../../src/server/sync/framed-socket.js'
import { ClusterServer, TestClient, freePorts, tempDir, waitFor } from '../helpers/index.js'

const KEY = 'cmV2aWV3IGtleSBmb3IgdGhlIGluZGV4IGNoYW5uZWwncyBoYW5kc2hha2U='

interface FakePeer {
  controlPort: number
  /** Messages the server sent on the index channel. */
  indexMessages: Record<string, unknown>[]
  indexClosed: boolean
  indexOpened: boolean
  /** Push these messages on the index channel (once it is open). */
  push(messages: unknown[]): void
  close(): Promise<void>
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port))
  })
}

/**
 * A peer 'F' whose control port proves the key honestly, and whose file-exchange port's index
 * channel does not: it never challenges, never welcomes, and sends what the test pushes.
 */
async function fakePeer(): Promise<FakePeer> {
  const sockets = new Set<net.Socket>()
  let index: FramedSocket | undefined
  const exchange = net.createServer((socket) => {
    sockets.add(socket)
    const framed: FramedSocket = new FramedSocket(socket, {
      onControl: (message) => {
        const m = message as Record<string, unknown>
        if (m['type'] === 'peer-hello' && m['channel'] === 'index') {
          index = framed
          fake.indexOpened = true
          return
        }
        if (framed === index) fake.indexMessages.push(m)
      },
      onClose: () => {
        if (framed === index) fake.indexClosed = true
      },
    })
  })
  const syncPort = await listen(exchange)
  const control = net.createServer((socket) => {
    sockets.add(socket)
    let acceptance: PeerAcceptance | undefined
    const framed: FramedSocket = new FramedSocket(socket, {
      onControl: (message) => {
        const m = message as { type?: string; id?: string; nonce?: string }
        if (m.type === 'hello') {
          acceptance = acceptPeer(KEY, 'F', 'control', m.id ?? '?', m.nonce)
          if (acceptance.kind === 'challenge') framed.send(acceptance.challenge)
          return
        }
        if (acceptance?.kind !== 'challenge') return
        acceptance.check(message)
        framed.send({
          type: 'welcome',
          server: { name: 'F', version: 'test' },
          sessionId: 'fake',
          sync: { port: syncPort, time: Date.now() },
        })
      },
      onClose: () => undefined,
    })
  })
  const controlPort = await listen(control)
  const fake: FakePeer = {
    controlPort,
    indexMessages: [],
    indexClosed: false,
    indexOpened: false,
    push(messages) {
      for (const message of messages) index?.send(message)
    },
    async close() {
      for (const s of sockets) s.destroy()
      await Promise.all(
        [exchange, control].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
      )
    },
  }
  return fake
}

let fake: FakePeer | undefined
let server: ClusterServer | undefined
afterEach(async () => {
  await server?.stop()
  await fake?.close()
  server = undefined
  fake = undefined
})

describe('the index channel at the connecting side', () => {
  it('applies nothing from an acceptor that skipped the key’s proof', async () => {
    fake = await fakePeer()
    const base = tempDir('tandem-review-index-auth-')
    const root = path.join(base, 'root')
    mkdirSync(root)
    mkdirSync(path.join(base, 'state'))
    writeFileSync(path.join(root, 'victim.txt'), 'keep me\n')
    const keyFile = path.join(base, 'cluster.key')
    writeFileSync(keyFile, `${KEY}\n`)
    const [port, syncPort] = await freePorts(2)
    server = new ClusterServer(
      'A',
      root,
      path.join(base, 'state'),
      port!,
      syncPort!,
      [`127.0.0.1:${fake.controlPort}`],
      ['--cluster-key', keyFile],
    )
    onTestFailed(() => console.error(server?.output().slice(-4000)))
    await server.start()
    // A has indexed its file, and its link to F reached F's index channel.
    await waitFor(
      async () => {
        const client = await TestClient.connect(server!.port, { clientId: 'review' })
        try {
          const reply = await client.list()
          return reply.ok && JSON.stringify(reply.result).includes('victim.txt')
        } finally {
          await client.close()
        }
      },
      { timeoutMs: 20_000, intervalMs: 100, what: 'A to list victim.txt' },
    )
    const f = fake
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
    expect(existsSync(path.join(root, 'victim.txt'))).toBe(true)
    expect(f.indexMessages.filter((m) => m['type'] === 'ack')).toEqual([])
    expect(f.indexMessages).toContainEqual(
      expect.objectContaining({
        type: 'error',
        error: expect.objectContaining({ code: 'ERR_AUTH' }),
      }),
    )
  })
})
