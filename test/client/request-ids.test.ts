import { describe, expect, it } from 'vitest'
import { ridSchema } from '../../src/protocol/index.js'
import { RequestIds, requestIdsFor } from '../../src/client/request-ids.js'

const seq = (rid: string): bigint => BigInt(rid.slice(rid.lastIndexOf(':') + 1))

describe('request ids (rid = CLIENT:SEQUENCE)', () => {
  it('are valid rids of the client, counting up', () => {
    const ids = new RequestIds('host-1a2b:x', { clock: () => 1_700_000_000_000, offset: 5 })
    const [first, second] = [ids.next(), ids.next()]
    expect(first).toBe('host-1a2b:x:1700000000000000005')
    expect(ridSchema.safeParse(first).success).toBe(true)
    expect(seq(second)).toBe(seq(first) + 1n)
  })

  it('never repeat, even when the clock goes back', () => {
    let now = 1_700_000_000_000
    const ids = new RequestIds('c', { clock: () => now, offset: 0 })
    const seen = new Set<string>()
    for (let i = 0; i < 1000; i++) {
      if (i === 500) now -= 60_000
      seen.add(ids.next())
    }
    expect(seen.size).toBe(1000)
  })

  it('a later process (a later clock) starts beyond everything an earlier one gave out', () => {
    let now = 1_700_000_000_000
    const earlier = new RequestIds('c', { clock: () => now, offset: 999_999 })
    let last = ''
    for (let i = 0; i < 10_000; i++) last = earlier.next()
    now += 20 // a new process starts some milliseconds later
    const later = new RequestIds('c', { clock: () => now, offset: 0 })
    expect(seq(later.next())).toBeGreaterThan(seq(last))
  })

  it('follow the clock: a sequence drawn later is not below the clock of then', () => {
    let now = 1_700_000_000_000
    const ids = new RequestIds('c', { clock: () => now, offset: 0 })
    ids.next()
    now += 1000
    expect(seq(ids.next())).toBe(BigInt(now) * 1_000_000n)
  })

  it('one sequence per client id per process; the real clock fits the protocol (20 digits)', () => {
    expect(requestIdsFor('same')).toBe(requestIdsFor('same'))
    expect(requestIdsFor('same')).not.toBe(requestIdsFor('other'))
    const rid = requestIdsFor('same').next()
    expect(ridSchema.safeParse(rid).success).toBe(true)
    expect(rid.split(':')[1]!.length).toBeLessThanOrEqual(20)
  })
})
