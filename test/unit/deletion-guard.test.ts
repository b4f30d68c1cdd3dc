// The runtime mass-deletion guard (watch/deletion-guard.ts) with a fake clock: a few deletions
// pass at once; a burst is held until quiet, then refused if the directory is gone or emptied,
// else released (and each released name passes exactly once).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { DeletionGuard, type Emptied } from '../../src/server/watch/deletion-guard.js'

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

function guard(emptied: Emptied | null) {
  const refused: string[] = []
  const released: string[][] = []
  const g = new DeletionGuard({
    emptied: () => Promise.resolve(emptied),
    refuse: (reason) => refused.push(reason),
    release: (names) => released.push(names),
    now: () => Date.now(),
  })
  return { g, refused, released }
}

const names = (n: number, prefix = 'f') => Array.from({ length: n }, (_, i) => `${prefix}${i}`)

describe('DeletionGuard', () => {
  it('a client’s deletions held before its notice came are released at once by pass()', async () => {
    const { g, released, refused } = guard({ vanished: false, reason: 'empty' })
    expect(g.admit(names(25), false)).toEqual([])
    g.pass(names(25).slice(0, 20))
    expect(released).toEqual([names(25).slice(0, 20)])
    // Looked at again, they pass once; the other five are still held and judged as before.
    expect(g.admit(names(20), false)).toHaveLength(20)
    g.pass(['never-held'])
    expect(released).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1_100)
    expect(refused).toEqual([]) // five held: not a mass deletion
    expect(released[1]).toEqual(names(25).slice(20))
  })

  it('lets a few deletions through at once', () => {
    const { g } = guard(null)
    expect(g.admit(['a', 'b'], false)).toEqual(['a', 'b'])
  })

  it('holds a burst until deletions are quiet, then releases it when the directory is fine', async () => {
    const { g, released, refused } = guard(null)
    expect(g.admit(names(25), false)).toEqual([])
    await vi.advanceTimersByTimeAsync(500)
    expect(g.admit(names(30, 'g'), false)).toEqual([]) // still bursting: the wait starts over
    await vi.advanceTimersByTimeAsync(900)
    expect(released).toEqual([])
    await vi.advanceTimersByTimeAsync(200)
    expect(refused).toEqual([])
    expect(released[0]?.length).toBe(55)
    // Released names pass once, even in a batch that would otherwise be a burst.
    expect(g.admit(released[0]!, false)).toHaveLength(55)
    expect(g.admit(['f0'], false)).toEqual(['f0'])
  })

  it('refuses when the directory vanished or a burst emptied it', async () => {
    const vanished = guard({ vanished: true, reason: 'gone' })
    vanished.g.admit(['only'], true) // its folder vanished too: judged like a burst
    await vi.advanceTimersByTimeAsync(1_100)
    expect(vanished.refused).toEqual(['gone'])

    const emptied = guard({ vanished: false, reason: 'empty' })
    emptied.g.admit(names(25), false)
    await vi.advanceTimersByTimeAsync(1_100)
    expect(emptied.refused).toEqual(['empty'])
    expect(emptied.released).toEqual([])
  })

  it('a small burst that happens to empty the directory is an ordinary deletion', async () => {
    const { g, refused, released } = guard({ vanished: false, reason: 'empty' })
    g.admit(['probe/x', 'probe/y'], true)
    await vi.advanceTimersByTimeAsync(1_100)
    expect(refused).toEqual([])
    expect(released).toEqual([['probe/x', 'probe/y']])
  })
})
