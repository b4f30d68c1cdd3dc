// Bad input on the cluster key's handshake, against one real server with a key (hand-made frames
// on raw sockets, this test playing the other server): no nonce, forged proofs (random bytes, a
// proof made with another key), a proof replayed from an earlier handshake against a new
// challenge, garbage and oversized frames — on the control port and straight on the
// file-exchange port, asking for the index or a file. Each is refused with its code, nothing of
// the index or of a file is sent, and the server keeps serving. A test that holds the right key
// gets through each step, so that each refusal is the key's doing.
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  Limits,
  computeProof,
  newNonce,
  verifyProof,
  type ProofContext,
} from '../../src/protocol/index.js'
import {
  TestClient,
  frameHeader,
  freePorts,
  rawConnect,
  sha256Of,
  startServer,
  tempDir,
  waitFor,
  type RawConnection,
  type ServerHandle,
} from '../helpers/index.js'

const KEY = 'dGhlIHJpZ2h0IGtleSBmb3IgdGhpcyBjbHVzdGVyLCAzMiBieXRlcw=='
const OTHER_KEY = 'YSB3cm9uZyBrZXksIGp1c3QgYXMgbG9uZyBhcyB0aGUgcmlnaHQgb25l'
const SECRET = 'for the cluster only\n'
/** The name this test gives itself as a peer. */
const ME = 'Z'

let server: ServerHandle
let syncPort: number

beforeAll(async () => {
  const base = tempDir('tandem-auth-')
  const keyFile = path.join(base, 'cluster.key')
  writeFileSync(keyFile, `${KEY}\n`)
  ;[syncPort] = (await freePorts(1)) as [number]
  server = await startServer({
    name: 'A',
    extraArgs: ['--cluster-key', keyFile, '--sync-port', String(syncPort)],
  })
  writeFileSync(path.join(server.root, 'secret.txt'), SECRET)
  await waitFor(async () => (await listNames()).includes('secret.txt'), {
    what: 'secret.txt indexed',
  })
}, 30_000)

afterAll(async () => {
  await server?.stop()
})

async function listNames(): Promise<string[]> {
  const client = await TestClient.connect(server.port, { clientId: 'auth-probe' })
  try {
    const reply = await client.list()
    if (!reply.ok) throw new Error(`list: ${reply.error?.code}`)
    return reply.result!.files.map((row) => row.name)
  } finally {
    await client.close()
  }
}

/** Connect, send our preamble and `first` (the hello or peer-hello). */
async function open(port: number, first: unknown): Promise<RawConnection> {
  const conn = await rawConnect(port)
  await conn.sendPreamble()
  await conn.sendControl(first)
  return conn
}

/**
 * The connection is answered with a connection-level error of `code` and closed, having sent
 * nothing else: no welcome, no entry, no content, no byte of a file.
 */
async function refused(conn: RawConnection, code: string): Promise<void> {
  const message = await conn.nextControl()
  expect(message).toMatchObject({ type: 'error', error: { code } })
  await conn.closed
  const sent = conn.frames.filter((f) => f.kind !== 'preamble')
  const spoken = sent.map((f) => (f.kind === 'control' ? String(f.message.type) : f.kind))
  expect(spoken.filter((t) => t !== 'challenge' && t !== 'error')).toEqual([])
  conn.destroy()
}

/** The challenge that answers a hello with `nonce`, its proof checked as this test holds the key. */
async function challenged(
  conn: RawConnection,
  channel: ProofContext['channel'],
  nonce: string,
): Promise<{ challenge: Record<string, unknown>; context: ProofContext }> {
  const challenge = await conn.nextControl()
  expect(challenge).toMatchObject({ type: 'challenge', server: 'A' })
  const context: ProofContext = {
    channel,
    connector: ME,
    acceptor: 'A',
    connectorNonce: nonce,
    acceptorNonce: String(challenge.nonce),
  }
  // The server proves the key first (to this test, which holds it).
  expect(verifyProof(KEY, 'acceptor', context, String(challenge.proof))).toBe(true)
  return { challenge, context }
}

const peerHello = (nonce?: string) => ({
  type: 'hello',
  role: 'peer',
  id: ME,
  ...(nonce === undefined ? {} : { nonce }),
})
const exchangeHello = (channel: 'index' | 'content', nonce?: string) => ({
  type: 'peer-hello',
  server: ME,
  channel,
  ...(nonce === undefined ? {} : { nonce }),
})

describe('the control port: a peer must prove the cluster key', () => {
  it('the right proof gets the welcome (where files are exchanged)', async () => {
    const nonce = newNonce()
    const conn = await open(server.port, peerHello(nonce))
    const { context } = await challenged(conn, 'control', nonce)
    await conn.sendControl({ type: 'proof', proof: computeProof(KEY, 'connector', context) })
    const welcome = await conn.nextControl()
    expect(welcome).toMatchObject({ type: 'welcome', sync: { port: syncPort } })
    conn.destroy()
  })

  it('a peer hello without a nonce (no key) is refused with ERR_AUTH', async () => {
    await refused(await open(server.port, peerHello()), 'ERR_AUTH')
  })

  it('forged proofs are refused with ERR_AUTH: random bytes, another key, not base64', async () => {
    for (const forge of [
      () => randomBytes(32).toString('base64'),
      (c: ProofContext) => computeProof(OTHER_KEY, 'connector', c),
      // The server's own proof sent back (a reflection): made for the other direction.
      (c: ProofContext) => computeProof(KEY, 'acceptor', c),
      () => 'not a proof at all',
    ]) {
      const nonce = newNonce()
      const conn = await open(server.port, peerHello(nonce))
      const { context } = await challenged(conn, 'control', nonce)
      await conn.sendControl({ type: 'proof', proof: forge(context) })
      await refused(conn, 'ERR_AUTH')
    }
  })

  it('a proof recorded from an earlier handshake, replayed against a new challenge: ERR_AUTH', async () => {
    const nonce = newNonce()
    const first = await open(server.port, peerHello(nonce))
    const recorded = await challenged(first, 'control', nonce)
    const proof = computeProof(KEY, 'connector', recorded.context)
    await first.sendControl({ type: 'proof', proof })
    expect(await first.nextControl()).toMatchObject({ type: 'welcome' })
    first.destroy()
    // The same hello again (same nonce): the server's nonce is new, so the old proof is worthless.
    const again = await open(server.port, peerHello(nonce))
    const { challenge } = await challenged(again, 'control', nonce)
    expect(challenge.nonce).not.toBe(recorded.challenge.nonce)
    await again.sendControl({ type: 'proof', proof })
    await refused(again, 'ERR_AUTH')
  })

  it('garbage and oversized frames in the handshake get their codes', async () => {
    const cases: { code: string; send(conn: RawConnection): Promise<void> }[] = [
      { code: 'ERR_BAD_FRAME', send: (c) => c.send(frameHeader(5, 1), Buffer.from('{nope')) },
      { code: 'ERR_BAD_REQUEST', send: (c) => c.sendControl({ type: 'proof', proof: 42 }) },
      { code: 'ERR_BAD_REQUEST', send: (c) => c.sendControl({ type: 'hello', role: 'peer' }) },
      { code: 'ERR_BAD_FRAME', send: (c) => c.send(frameHeader(3, 2), Buffer.from('abc')) },
      {
        code: 'ERR_TOO_LARGE',
        send: (c) => c.send(frameHeader(Limits.maxHello + 1, 1), Buffer.alloc(64, 0x20)),
      },
    ]
    for (const { code, send } of cases) {
      const nonce = newNonce()
      const conn = await open(server.port, peerHello(nonce))
      await challenged(conn, 'control', nonce)
      await send(conn)
      await refused(conn, code)
    }
    // An oversized hello, and a client's hello that carries a nonce.
    const big = await rawConnect(server.port)
    await big.sendPreamble()
    await big.send(frameHeader(Limits.maxHello + 1, 1))
    await refused(big, 'ERR_TOO_LARGE')
    const client = await open(server.port, {
      type: 'hello',
      role: 'client',
      id: 'c',
      nonce: newNonce(),
    })
    await refused(client, 'ERR_BAD_REQUEST')
  })
})

describe('the file-exchange port: every channel proves the key before an entry or a byte', () => {
  it('the right proof opens an index channel that sends the entries (the control case)', async () => {
    const nonce = newNonce()
    const conn = await open(syncPort, exchangeHello('index', nonce))
    const { context } = await challenged(conn, 'index', nonce)
    await conn.sendControl({ type: 'proof', proof: computeProof(KEY, 'connector', context) })
    expect(await conn.nextControl()).toMatchObject({ type: 'peer-welcome', server: 'A' })
    await conn.sendControl({ type: 'subscribe', since: 0, epoch: null })
    const entries = await conn.nextControl()
    expect(entries).toMatchObject({ type: 'entries' })
    expect(JSON.stringify(entries)).toContain('secret.txt')
    conn.destroy()
  })

  it('a peer-hello without a nonce, then a subscribe or a fetch at once: ERR_AUTH, nothing sent', async () => {
    const index = await open(syncPort, exchangeHello('index'))
    await index.sendControl({ type: 'subscribe', since: 0, epoch: null })
    await refused(index, 'ERR_AUTH')
    const content = await open(syncPort, exchangeHello('content'))
    await content.sendControl({ type: 'fetch', id: 0, name: 'secret.txt', hash: sha256Of(SECRET) })
    await refused(content, 'ERR_AUTH')
  })

  it('forged and replayed proofs on both channels: ERR_AUTH, and no entry or byte follows', async () => {
    // Recorded from a real index handshake (a valid proof there).
    const nonce = newNonce()
    const recorded = await open(syncPort, exchangeHello('index', nonce))
    const { context } = await challenged(recorded, 'index', nonce)
    const valid = computeProof(KEY, 'connector', context)
    await recorded.sendControl({ type: 'proof', proof: valid })
    expect(await recorded.nextControl()).toMatchObject({ type: 'peer-welcome' })
    recorded.destroy()
    for (const channel of ['index', 'content'] as const) {
      for (const forge of [
        () => randomBytes(32).toString('base64'),
        (c: ProofContext) => computeProof(OTHER_KEY, 'connector', c),
        () => valid, // the replay: the same nonce, a new challenge
      ]) {
        const conn = await open(syncPort, exchangeHello(channel, nonce))
        const { context: now } = await challenged(conn, channel, nonce)
        await conn.sendControl({ type: 'proof', proof: forge(now) })
        await conn.sendControl(
          channel === 'index'
            ? { type: 'subscribe', since: 0, epoch: null }
            : { type: 'fetch', id: 0, name: 'secret.txt', hash: sha256Of(SECRET) },
        )
        await refused(conn, 'ERR_AUTH')
      }
    }
  })

  it('garbage and oversized frames before the welcome get their codes', async () => {
    const nonce = newNonce()
    const conn = await open(syncPort, exchangeHello('index', nonce))
    await challenged(conn, 'index', nonce)
    await conn.send(frameHeader(Limits.maxHello + 1, 1), Buffer.alloc(64, 0x20))
    await refused(conn, 'ERR_TOO_LARGE')
    const junk = await open(syncPort, {
      type: 'peer-hello',
      server: ME,
      channel: 'index',
      nonce: 'x',
    })
    await refused(junk, 'ERR_BAD_REQUEST')
    const garbage = await rawConnect(syncPort)
    await garbage.sendPreamble()
    await garbage.send(frameHeader(4, 1), Buffer.from('}}}}'))
    await refused(garbage, 'ERR_BAD_FRAME')
  })
})

describe('after all of that', () => {
  it('the server still serves clients, and logged the refusals (console and change log)', async () => {
    expect(await listNames()).toEqual(['secret.txt'])
    const client = await TestClient.connect(server.port, { clientId: 'auth-probe' })
    try {
      const reply = await client.log({ limit: 1000 })
      const refusals = reply.result!.entries.filter((e) => e.op === 'member-refused')
      expect(refusals.length).toBeGreaterThan(0)
      expect(refusals.every((e) => (e.detail ?? '').includes(ME))).toBe(true)
    } finally {
      await client.close()
    }
    expect(server.output()).toMatch(/member\s+\S+\s+refused/)
    expect(server.output()).not.toContain(KEY)
  })
})
