// The placement rule (src/server/placement/): deterministic, creator first, weighted, and stable
// when a member joins (only about 1/N of the files move).
import { describe, expect, it } from 'vitest'
import { desiredHolders, rankMembers } from '../../src/server/placement/desired.js'
import { FewestFiles } from '../../src/server/placement/fewest-files.js'
import { hrwScore, uniform } from '../../src/server/placement/rendezvous.js'

const members = (names: string[], weight = 100) => names.map((name) => ({ name, weight }))
const ids = Array.from({ length: 3000 }, (_, i) => `file-${i}`)

describe('placement', () => {
  it('draws u strictly inside (0, 1), the same every time', () => {
    for (const id of ids.slice(0, 200)) {
      const u = uniform(id, 'A')
      expect(u).toBeGreaterThan(0)
      expect(u).toBeLessThan(1)
      expect(uniform(id, 'A')).toBe(u)
    }
    expect(hrwScore('x', 'A', 0)).toBe(-Infinity)
  })

  it('puts the creator first, then K-1 others, and every candidate with k = null', () => {
    const m = members(['A', 'B', 'C'])
    for (const id of ids.slice(0, 100)) {
      const d = desiredHolders({ name: id, fileId: id, creator: 'B' }, m, 2)
      expect(d).toHaveLength(2)
      expect(d[0]).toBe('B')
      expect(d[1]).not.toBe('B')
    }
    expect(desiredHolders({ name: 'x', creator: 'A' }, m, null).sort()).toEqual(['A', 'B', 'C'])
    // A creator that is no candidate (given up on) is simply not there.
    const d = desiredHolders({ name: 'x', fileId: 'x', creator: 'Z' }, m, 2)
    expect(d).toHaveLength(2)
    expect(d).not.toContain('Z')
  })

  it('is the same whatever order the members are given in', () => {
    const a = members(['A', 'B', 'C', 'D'])
    const b = [...a].reverse()
    for (const id of ids.slice(0, 300))
      expect(rankMembers({ name: id, fileId: id }, a)).toEqual(
        rankMembers({ name: id, fileId: id }, b),
      )
  })

  it('spreads second copies evenly over equal members, and in proportion to weight', () => {
    const count = (weights: Record<string, number>) => {
      const m = Object.entries(weights).map(([name, weight]) => ({ name, weight }))
      const got: Record<string, number> = {}
      for (const id of ids) {
        const [, second] = desiredHolders({ name: id, fileId: id, creator: 'A' }, m, 2)
        got[second!] = (got[second!] ?? 0) + 1
      }
      return got
    }
    const even = count({ A: 100, B: 100, C: 100 })
    expect(even.B! / ids.length).toBeGreaterThan(0.45)
    expect(even.C! / ids.length).toBeGreaterThan(0.45)
    const weighted = count({ A: 100, B: 200, C: 100 })
    expect(weighted.B! / weighted.C!).toBeGreaterThan(1.7)
    expect(weighted.B! / weighted.C!).toBeLessThan(2.3)
  })

  it('moves only about 1/N of the copies when a member joins', () => {
    const before = members(['A', 'B', 'C'])
    const after = members(['A', 'B', 'C', 'D'])
    let moved = 0
    for (const id of ids) {
      const old = new Set(desiredHolders({ name: id, fileId: id, creator: 'A' }, before, 2))
      const now = desiredHolders({ name: id, fileId: id, creator: 'A' }, after, 2)
      moved += now.filter((m) => !old.has(m)).length
      // Only the newcomer gains: no copy moves between the old members.
      for (const m of now) if (!old.has(m)) expect(m).toBe('D')
    }
    // The second copy moves to D for about a third of the files (D wins 1 of 3 draws).
    expect(moved / ids.length).toBeGreaterThan(0.25)
    expect(moved / ids.length).toBeLessThan(0.42)
  })

  it('the fewest-files rule counts what it placed', () => {
    const rule = new FewestFiles(['A', 'B', 'C'])
    expect(rule.place('A', 10, 2)).toEqual(['A', 'B'])
    expect(rule.place('A', 10, 2)).toEqual(['A', 'C'])
    expect(rule.counts().get('A')).toBe(2)
    expect(rule.bytes().get('B')).toBe(10)
  })
})
