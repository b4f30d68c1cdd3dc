// Which peer refusals are reported: one per peer and reason a minute, and a bound in all (made-up
// names must not flood the change log). Time is injected.
import { describe, expect, it } from 'vitest'
import { RefusalNotices } from '../../src/server/refusal-notices.js'

describe('RefusalNotices', () => {
  it('reports a peer and reason once a minute, a new reason at once', () => {
    let now = 1_000_000
    const notices = new RefusalNotices(() => now)
    expect(notices.shouldReport('B', 'wrong key')).toBe(true)
    expect(notices.shouldReport('B', 'wrong key')).toBe(false)
    expect(notices.shouldReport('B', 'no key')).toBe(true)
    expect(notices.shouldReport('C', 'wrong key')).toBe(true)
    now += 59_999
    expect(notices.shouldReport('B', 'wrong key')).toBe(false)
    now += 1
    expect(notices.shouldReport('B', 'wrong key')).toBe(true)
  })

  it('reports at most 30 refusals a minute in all', () => {
    let now = 0
    const notices = new RefusalNotices(() => now)
    const reported = Array.from({ length: 100 }, (_, i) => notices.shouldReport(`P${i}`, 'x'))
    expect(reported.filter(Boolean)).toHaveLength(30)
    now += 60_000
    expect(notices.shouldReport('P99', 'x')).toBe(true)
  })
})
