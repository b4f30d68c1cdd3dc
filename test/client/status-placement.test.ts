// `tandem status` with --replicas: the copies line always, the healing line once healing has
// something to say (queued, done, or an error), a server's error text shown escaped.
import { describe, expect, it } from 'vitest'
import { placementLines } from '../../src/client/cli/render/status.js'
import type { PlacementStatus } from '../../src/protocol/index.js'

function placement(healing: Partial<PlacementStatus['healing']> = {}): PlacementStatus {
  return {
    replicas: 2,
    files: 60,
    held: 41,
    underReplicated: 3,
    surplus: 1,
    healing: { queued: 0, copied: 0, dropped: 0, bytes: 0, ...healing },
  }
}

describe('status: placement lines', () => {
  it('says the copies, and healing only once it has something to say', () => {
    expect(placementLines(placement())).toEqual([
      'copies   K=2: 60 files, 41 held here, 3 under-replicated, 1 surplus',
    ])
    const lines = placementLines(placement({ queued: 2, copied: 19, bytes: 1536, dropped: 1 }))
    expect(lines[1]).toBe('healing  2 queued; 19 copied (1.5 KiB), 1 dropped')
  })

  it('shows the last error escaped', () => {
    const lines = placementLines(placement({ lastError: 'a.txt from B: \u001b[31mred' }))
    expect(lines[1]).toMatch(
      /^healing {2}0 queued; 0 copied \(0 B\), 0 dropped; last error: a\.txt from B: /,
    )
    expect(lines[1]).not.toContain('\u001b')
  })
})
