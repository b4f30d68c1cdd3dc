// The sync planner and version vectors are pure: checked here with hand-made entries and with
// properties over random histories (every server that resolves the same conflict agrees).
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { FileEntry } from '../../src/server/index/entry.js'
import {
  bumpVector,
  compareVectors,
  mergeVectors,
  type VersionVector,
} from '../../src/server/index/version-vector.js'
import { conflictName } from '../../src/server/index/conflict-name.js'
import { plan, planBatch } from '../../src/server/sync/planner.js'

const H1 = '1'.repeat(64)
const H2 = '2'.repeat(64)

function entry(partial: Partial<FileEntry> & { version: VersionVector }): FileEntry {
  return {
    name: 'a.txt',
    size: 1,
    mtime: 1_000,
    hash: H1,
    deleted: false,
    origin: 'A',
    seq: 1,
    ...partial,
  }
}

describe('version vectors', () => {
  const vector = fc.dictionary(fc.constantFrom('A', 'B', 'C'), fc.nat({ max: 5 }))

  it('compare is antisymmetric and merge dominates both', () => {
    fc.assert(
      fc.property(vector, vector, (a, b) => {
        const ab = compareVectors(a, b)
        const ba = compareVectors(b, a)
        const flip = {
          equal: 'equal',
          greater: 'lesser',
          lesser: 'greater',
          concurrent: 'concurrent',
        }
        expect(ba).toBe(flip[ab])
        const m = mergeVectors(a, b)
        expect(['equal', 'greater']).toContain(compareVectors(m, a))
        expect(['equal', 'greater']).toContain(compareVectors(m, b))
      }),
    )
  })

  it('a bump descends from its base', () => {
    fc.assert(
      fc.property(vector, fc.constantFrom('A', 'B'), (v, s) => {
        expect(compareVectors(bumpVector(v, s), v)).toBe('greater')
      }),
    )
  })

  it('a server named __proto__ or constructor is a counter like any other', () => {
    // As a peer's entry arrives: JSON.parse makes "__proto__" an own key.
    const theirs = JSON.parse('{"__proto__": 3, "constructor": 2, "A": 1}') as VersionVector
    const mine: VersionVector = { A: 2 }
    const merged = mergeVectors(mine, theirs)
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype)
    expect(Object.entries(merged).sort()).toEqual([
      ['A', 2],
      ['__proto__', 3],
      ['constructor', 2],
    ])
    expect(compareVectors(merged, theirs)).toBe('greater')
    expect(compareVectors(merged, mine)).toBe('greater')
    expect(compareVectors(bumpVector(merged, '__proto__'), merged)).toBe('greater')
  })

  it('missing counters count as zero', () => {
    expect(compareVectors({ A: 0 }, {})).toBe('equal')
    expect(compareVectors({ A: 1 }, { B: 1 })).toBe('concurrent')
  })
})

describe('plan', () => {
  it('takes an unknown file, records an unknown tombstone', () => {
    expect(plan(undefined, entry({ version: { A: 1 } }), 'B').kind).toBe('take')
    expect(plan(undefined, entry({ version: { A: 1 }, deleted: true, hash: null }), 'B').kind).toBe(
      'record',
    )
  })

  it('skips what it has or what is older', () => {
    const local = entry({ version: { A: 2 } })
    expect(plan(local, entry({ version: { A: 2 } }), 'B').kind).toBe('skip')
    expect(plan(local, entry({ version: { A: 1 } }), 'B').kind).toBe('skip')
  })

  it('a descendant replaces: new content is taken, a tombstone deletes', () => {
    const local = entry({ version: { A: 1 } })
    expect(plan(local, entry({ version: { A: 2 }, hash: H2 }), 'B').kind).toBe('take')
    expect(plan(local, entry({ version: { A: 2 } }), 'B').kind).toBe('record') // same content
    const tomb = entry({ version: { A: 2 }, deleted: true, hash: null })
    expect(plan(local, tomb, 'B').kind).toBe('delete')
  })

  it('a tombstone does not bring a file back, a concurrent edit beats a delete', () => {
    const tomb = entry({ version: { A: 2 }, deleted: true, hash: null })
    // The deleted side hears of an older live version: nothing comes back.
    expect(plan(tomb, entry({ version: { A: 1 } }), 'A').kind).toBe('skip')
    // Concurrent: B edited while A deleted. B keeps its file, with a version above both.
    const edited = entry({ version: { A: 1, B: 1 }, hash: H2, origin: 'B' })
    const keep = plan(edited, tomb, 'B')
    expect(keep.kind).toBe('keep')
    if (keep.kind !== 'keep') return
    expect(compareVectors(keep.entry.version, tomb.version)).toBe('greater')
    // And A, hearing of it, takes it back.
    expect(plan(tomb, keep.entry, 'A').kind).toBe('take')
  })

  it('concurrent edits: the newer wins, the loser becomes a named conflict copy', () => {
    const a = entry({
      version: { A: 2 },
      hash: H1,
      mtime: Date.UTC(2026, 0, 2, 3, 4, 5),
      origin: 'A',
    })
    const b = entry({ version: { A: 1, B: 1 }, hash: H2, mtime: Date.UTC(2026, 0, 1), origin: 'B' })
    const onA = plan(a, b, 'A')
    const onB = plan(b, a, 'B')
    expect(onA).toMatchObject({ kind: 'conflict', winner: 'local', copyFrom: 'remote' })
    expect(onB).toMatchObject({ kind: 'conflict', winner: 'remote', copyFrom: 'local' })
    if (onA.kind !== 'conflict' || onB.kind !== 'conflict') return
    expect(onA.copyName).toBe('a.sync-conflict-20260101-000000-B.txt')
    expect(onB.copyName).toBe(onA.copyName)
    expect(onA.entry.hash).toBe(H1)
    expect(onB.entry.hash).toBe(H1)
    expect(onA.entry.version).toEqual({ A: 2, B: 1 })
  })

  it('concurrent versions with the same content merge without a copy', () => {
    const a = entry({ version: { A: 1 } })
    const b = entry({ version: { B: 1 }, origin: 'B' })
    expect(plan(a, b, 'A')).toMatchObject({ kind: 'record', entry: { version: { A: 1, B: 1 } } })
  })

  it('every server resolving the same conflict makes the same choice (property)', () => {
    const version = fc.record({ A: fc.nat({ max: 3 }), B: fc.nat({ max: 3 }) })
    const side = fc.record({
      version,
      hash: fc.constantFrom(H1, H2),
      mtime: fc.integer({ min: 0, max: 3 }),
      origin: fc.constantFrom('A', 'B'),
    })
    fc.assert(
      fc.property(side, side, (x, y) => {
        const a = entry(x)
        const b = entry(y)
        const onA = plan(a, b, 'A')
        const onB = plan(b, a, 'B')
        if (onA.kind !== 'conflict' || onB.kind !== 'conflict') return
        expect(onA.entry.hash).toBe(onB.entry.hash)
        expect(onA.copyName).toBe(onB.copyName)
        expect(onA.entry.version).toEqual(onB.entry.version)
      }),
      { numRuns: 1000 },
    )
  })
})

describe('planBatch', () => {
  const old = entry({ name: 'old.txt', version: { A: 1 } })
  const tomb = entry({ name: 'old.txt', version: { A: 2 }, deleted: true, hash: null })
  const moved = entry({ name: 'new.txt', version: { A: 1 }, renamedFrom: 'old.txt' })

  it('a new name with the content of a name deleted in the same batch is a rename', () => {
    const local = new Map([['old.txt', old]])
    for (const batch of [
      [moved, tomb],
      [tomb, moved],
    ]) {
      const actions = planBatch(batch, (n) => local.get(n), 'B')
      expect(actions).toHaveLength(1)
      expect(actions[0]).toMatchObject({
        kind: 'rename',
        from: { name: 'old.txt' },
        to: { name: 'new.txt' },
      })
    }
  })

  it('without the old content here, it is a take and a delete', () => {
    const local = new Map([['old.txt', { ...old, hash: H2 }]])
    const actions = planBatch([moved, tomb], (n) => local.get(n), 'B')
    expect(actions.map((a) => a.kind)).toEqual(['take', 'delete'])
  })
})

describe('conflictName', () => {
  it('keeps the extension last and handles folders and dotfiles', () => {
    const t = Date.UTC(2026, 10, 21, 13, 5, 9)
    expect(conflictName('r/q1.txt', t, 'B')).toBe('r/q1.sync-conflict-20261121-130509-B.txt')
    expect(conflictName('Makefile', t, 'A')).toBe('Makefile.sync-conflict-20261121-130509-A')
    expect(conflictName('.env', t, 'A')).toBe('.env.sync-conflict-20261121-130509-A')
    expect(conflictName('a.tar.gz', t, 'A')).toBe('a.tar.sync-conflict-20261121-130509-A.gz')
  })
})
