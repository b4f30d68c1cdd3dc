// The handshake module on its own (pure): the cluster key's challenge–response both ways, what
// each proof is bound to, and every combination of key / other key / no key. Property tests
// (fast-check) over keys, names, channels and nonces.
import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  PeerConnector,
  acceptPeer,
  computeProof,
  helloSchema,
  newNonce,
  peerHelloSchema,
  replicasField,
  replicasMismatch,
  verifyProof,
  welcomeSchema,
  type AuthChannel,
  type ErrorCode,
  type ProofContext,
} from '../../src/protocol/index.js'

const channels: AuthChannel[] = ['control', 'index', 'content']
const key = fc.string({ minLength: 16, maxLength: 80 })
const name = fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/)
const channel = fc.constantFrom(...channels)
const nonce = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((b) => Buffer.from(b).toString('base64'))
const context = fc.record({
  channel,
  connector: name,
  acceptor: name,
  connectorNonce: nonce,
  acceptorNonce: nonce,
})

function codeOf(fn: () => unknown): ErrorCode | 'none' {
  try {
    fn()
  } catch (err) {
    return (err as { code: ErrorCode }).code
  }
  return 'none'
}

/** A whole handshake: connector `from` (key `a`) to acceptor `to` (key `b`) on `ch`. */
function run(a: string | null, b: string | null, from: string, to: string, ch: AuthChannel) {
  const connector = new PeerConnector(a, from, ch)
  const accepted = acceptPeer(b, to, ch, from, connector.helloFields.nonce)
  if (accepted.kind === 'open') {
    connector.welcomed(to)
    return 'open'
  }
  const proof = connector.answer(accepted.challenge)
  accepted.check(proof)
  connector.welcomed(to)
  return 'proven'
}

describe('the cluster key, both ways', () => {
  it('the same key on both sides: each proves it to the other, on every channel', () => {
    fc.assert(
      fc.property(key, name, name, channel, (k, from, to, ch) => {
        fc.pre(from !== to) // a peer in the acceptor's own name is refused (a reflection)
        expect(run(k, k, from, to, ch)).toBe('proven')
      }),
    )
  })

  it('another key: the connector refuses the acceptor first (ERR_AUTH), and the acceptor would too', () => {
    fc.assert(
      fc.property(key, key, name, name, channel, (a, b, from, to, ch) => {
        fc.pre(from !== to) // a peer in the acceptor's own name is refused (a reflection)
        fc.pre(a !== b)
        expect(codeOf(() => run(a, b, from, to, ch))).toBe('ERR_AUTH')
        // A connector that skipped the check still cannot pass: its proof is under the other key.
        const connector = new PeerConnector(a, from, ch)
        const n = connector.helloFields.nonce!
        const accepted = acceptPeer(b, to, ch, from, n)
        if (accepted.kind !== 'challenge') throw new Error('expected a challenge')
        const context: ProofContext = {
          channel: ch,
          connector: from,
          acceptor: to,
          connectorNonce: n,
          acceptorNonce: accepted.challenge.nonce,
        }
        const forged = { type: 'proof', proof: computeProof(a, 'connector', context) }
        expect(codeOf(() => accepted.check(forged))).toBe('ERR_AUTH')
      }),
    )
  })

  it('each combination of keys, decided', () => {
    const k = 'k'.repeat(16)
    expect(run(null, null, 'A', 'B', 'control')).toBe('open')
    expect(run(k, k, 'A', 'B', 'control')).toBe('proven')
    // The acceptor has a key, the connector none (no nonce in its hello): refused there.
    expect(codeOf(() => acceptPeer(k, 'B', 'control', 'A', undefined))).toBe('ERR_AUTH')
    // The connector has a key, the acceptor none: the acceptor refuses it (it asks for a proof)…
    expect(codeOf(() => acceptPeer(null, 'B', 'index', 'A', newNonce()))).toBe('ERR_AUTH')
    // …and a connector with a key welcomed without any proof refuses that acceptor.
    expect(codeOf(() => new PeerConnector(k, 'A', 'index').welcomed('B'))).toBe('ERR_AUTH')
    // A connector without a key that is challenged cannot answer.
    const accepted = acceptPeer(k, 'B', 'content', 'A', newNonce())
    if (accepted.kind !== 'challenge') throw new Error('expected a challenge')
    expect(codeOf(() => new PeerConnector(null, 'A', 'content').answer(accepted.challenge))).toBe(
      'ERR_AUTH',
    )
  })
})

describe('what a proof is bound to', () => {
  it('a proof verifies for its own context and side only: any one field changed, it fails', () => {
    fc.assert(
      fc.property(key, context, fc.constantFrom('connector', 'acceptor'), (k, c, side) => {
        const proof = computeProof(k, side, c)
        expect(verifyProof(k, side, c, proof)).toBe(true)
        const other = side === 'connector' ? 'acceptor' : 'connector'
        expect(verifyProof(k, other, c, proof)).toBe(false)
        const fresh = newNonce()
        const variants: ProofContext[] = [
          { ...c, channel: channels.find((ch) => ch !== c.channel)! },
          { ...c, connector: `${c.connector}x` },
          { ...c, acceptor: `${c.acceptor}x` },
          { ...c, connectorNonce: fresh },
          { ...c, acceptorNonce: fresh },
        ]
        for (const v of variants) expect(verifyProof(k, side, v, proof)).toBe(false)
        expect(verifyProof(`${k}x`, side, c, proof)).toBe(false)
      }),
    )
  })

  it('fields are length-prefixed: names that concatenate alike give different proofs', () => {
    const c = { channel: 'control', connectorNonce: newNonce(), acceptorNonce: newNonce() } as const
    const one = computeProof('k'.repeat(16), 'connector', { ...c, connector: 'ab', acceptor: 'c' })
    const two = computeProof('k'.repeat(16), 'connector', { ...c, connector: 'a', acceptor: 'bc' })
    expect(one).not.toBe(two)
  })

  it('random bytes, and malformed text, never pass for a proof', () => {
    fc.assert(
      fc.property(key, context, fc.uint8Array({ minLength: 0, maxLength: 64 }), (k, c, bytes) => {
        expect(verifyProof(k, 'connector', c, Buffer.from(bytes).toString('base64'))).toBe(false)
      }),
    )
    const c: ProofContext = {
      channel: 'index',
      connector: 'A',
      acceptor: 'B',
      connectorNonce: newNonce(),
      acceptorNonce: newNonce(),
    }
    for (const junk of [
      '',
      '!!!',
      'a'.repeat(300),
      `${computeProof('k'.repeat(16), 'connector', c)}x`,
    ])
      expect(verifyProof('k'.repeat(16), 'connector', c, junk)).toBe(false)
  })

  it('a proof replayed against a new challenge (same connector nonce) fails', () => {
    fc.assert(
      fc.property(key, name, name, channel, (k, from, to, ch) => {
        fc.pre(from !== to) // a peer in the acceptor's own name is refused (a reflection)
        const n = newNonce()
        const first = acceptPeer(k, to, ch, from, n)
        const second = acceptPeer(k, to, ch, from, n)
        if (first.kind !== 'challenge' || second.kind !== 'challenge') throw new Error('challenge')
        const recorded = computeProof(k, 'connector', {
          channel: ch,
          connector: from,
          acceptor: to,
          connectorNonce: n,
          acceptorNonce: first.challenge.nonce,
        })
        first.check({ type: 'proof', proof: recorded })
        expect(codeOf(() => second.check({ type: 'proof', proof: recorded }))).toBe('ERR_AUTH')
      }),
      { numRuns: 50 },
    )
  })

  it('a false acceptor replaying a recorded challenge is refused by the connector', () => {
    const k = 'k'.repeat(20)
    const earlier = new PeerConnector(k, 'A', 'control')
    const accepted = acceptPeer(k, 'B', 'control', 'A', earlier.helloFields.nonce)
    if (accepted.kind !== 'challenge') throw new Error('expected a challenge')
    const now = new PeerConnector(k, 'A', 'control') // a new nonce
    expect(codeOf(() => now.answer(accepted.challenge))).toBe('ERR_AUTH')
    // And a challenge made for another channel is refused too.
    const other = new PeerConnector(k, 'A', 'index')
    const forIndex = acceptPeer(k, 'B', 'control', 'A', other.helloFields.nonce)
    if (forIndex.kind !== 'challenge') throw new Error('expected a challenge')
    expect(codeOf(() => other.answer(forIndex.challenge))).toBe('ERR_AUTH')
  })
})

describe('what the acceptor reads where the proof is due', () => {
  const k = 'k'.repeat(16)
  const challenge = () => {
    const accepted = acceptPeer(k, 'B', 'control', 'A', newNonce())
    if (accepted.kind !== 'challenge') throw new Error('expected a challenge')
    return accepted
  }

  it("the connector's own refusal is ERR_AUTH; anything else that is no proof, ERR_BAD_REQUEST", () => {
    const refusal = { type: 'error', error: { code: 'ERR_AUTH', message: 'B could not prove it' } }
    expect(codeOf(() => challenge().check(refusal))).toBe('ERR_AUTH')
    for (const junk of [null, 42, 'proof', [], {}, { type: 'proof' }, { type: 'proof', proof: 1 }])
      expect(codeOf(() => challenge().check(junk))).toBe('ERR_BAD_REQUEST')
    expect(codeOf(() => challenge().check({ type: 'proof', proof: 'x', extra: 1 }))).toBe(
      'ERR_BAD_REQUEST',
    )
  })

  it('a connector refuses a malformed or a second challenge', () => {
    const connector = new PeerConnector(k, 'A', 'control')
    expect(codeOf(() => connector.answer({ type: 'challenge' }))).toBe('ERR_AUTH')
    const accepted = acceptPeer(k, 'B', 'control', 'A', connector.helloFields.nonce)
    if (accepted.kind !== 'challenge') throw new Error('expected a challenge')
    connector.answer(accepted.challenge)
    expect(codeOf(() => connector.answer(accepted.challenge))).toBe('ERR_AUTH')
  })
})

describe('the hello and welcome schemas', () => {
  it('a nonce is 32 bytes of base64, and only a peer sends one', () => {
    const n = newNonce()
    expect(helloSchema.safeParse({ type: 'hello', role: 'peer', id: 'A', nonce: n }).success).toBe(
      true,
    )
    expect(
      helloSchema.safeParse({ type: 'hello', role: 'client', id: 'c', nonce: n }).success,
    ).toBe(false)
    for (const bad of [
      '',
      'x',
      randomBytes(31).toString('base64'),
      randomBytes(33).toString('base64'),
    ])
      expect(
        peerHelloSchema.safeParse({ type: 'peer-hello', server: 'A', channel: 'index', nonce: bad })
          .success,
      ).toBe(false)
  })

  it("the welcome's load is read by the client schema", () => {
    const welcome = {
      type: 'welcome',
      server: { name: 'A', version: '0.1.0' },
      sessionId: 's',
      load: { clients: 3, maxClients: 9 },
    }
    expect(welcomeSchema.parse(welcome).load).toEqual({ clients: 3, maxClients: 9 })
    // A malformed load is none: the welcome itself still stands.
    const odd = welcomeSchema.parse({ ...welcome, load: { clients: -1, maxClients: 9 } })
    expect(odd.load).toBeUndefined()
  })
})

describe('--replicas at the handshake', () => {
  it('the same number, or a copy on every member on both sides, agrees; anything else is refused', () => {
    expect(replicasMismatch('A', 2, 'B', 2)).toBeNull()
    expect(replicasMismatch('A', null, 'B', null)).toBeNull()
    // Absent from the message: a copy on every member (a server that does not say).
    expect(replicasMismatch('A', null, 'B', undefined)).toBeNull()
    for (const [mine, theirs] of [
      [2, 3],
      [3, 2],
      [null, 2],
      [2, null],
      [2, undefined],
      [1, 64],
    ] as const) {
      const err = replicasMismatch('A', mine, 'B', theirs)
      expect(err?.code).toBe('ERR_REPLICAS_MISMATCH')
      // Either side may show it: both names are in it.
      expect(err?.message).toContain("'A'")
      expect(err?.message).toContain("'B'")
    }
  })

  it('a peer says its number (none for every member); a client says none; 1..64 whole only', () => {
    expect(replicasField(null)).toEqual({})
    expect(replicasField(3)).toEqual({ replicas: 3 })
    const peer = { type: 'hello', role: 'peer', id: 'A' }
    for (const k of [1, 2, 64])
      expect(helloSchema.safeParse({ ...peer, replicas: k }).success).toBe(true)
    for (const bad of [0, -1, 65, 1.5, '2', null])
      expect(helloSchema.safeParse({ ...peer, replicas: bad }).success).toBe(false)
    expect(
      helloSchema.safeParse({ type: 'hello', role: 'client', id: 'c', replicas: 2 }).success,
    ).toBe(false)
    const index = { type: 'peer-hello', server: 'A', channel: 'index' }
    expect(peerHelloSchema.safeParse({ ...index, replicas: 2 }).success).toBe(true)
    expect(peerHelloSchema.safeParse({ ...index, replicas: 0 }).success).toBe(false)
  })

  it('the welcome to a peer: a malformed --replicas fails it, malformed placement figures are unknown', () => {
    const welcome = (sync: Record<string, unknown>) => ({
      type: 'welcome',
      server: { name: 'B', version: '0.1.0' },
      sessionId: 's',
      sync: { port: 6001, time: 1, ...sync },
    })
    expect(welcomeSchema.parse(welcome({ replicas: 2, http: 8080, capacity: 40 })).sync).toEqual({
      port: 6001,
      time: 1,
      replicas: 2,
      http: 8080,
      capacity: 40,
    })
    expect(welcomeSchema.parse(welcome({ http: null })).sync?.http).toBeNull()
    const odd = welcomeSchema.parse(welcome({ http: 70_000, capacity: 0 })).sync
    expect(odd?.http).toBeUndefined()
    expect(odd?.capacity).toBeUndefined()
    expect(welcomeSchema.safeParse(welcome({ replicas: 0 })).success).toBe(false)
  })
})
