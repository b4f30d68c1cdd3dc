// The replication planner is pure: its safety rules checked with properties over random member
// views and holdings (fast-check), with the real placement rule and with arbitrary desired sets,
// and a simulation of every member planning at once from one view (copies never fall below
// what they were, and the cluster settles at exactly K copies on the desired holders).
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { desiredHolders } from '../../src/server/placement/desired.js'
import {
  candidatesOf,
  plan,
  type DesiredHolders,
  type MemberState,
  type PlanFile,
  type PlanInput,
  type PlanMember,
} from '../../src/server/sync/replication/plan.js'

const SELF = 'A'
const OTHERS = ['B', 'C', 'D', 'E', 'F']
const HASH = 'a'.repeat(64)

const stateArb = fc.constantFrom<MemberState>('up', 'grace', 'gone')
const membersArb = fc
  .subarray(OTHERS, { minLength: 0 })
  .chain((names) =>
    fc.tuple(
      ...names.map((name) =>
        fc.record({
          name: fc.constant(name),
          weight: fc.integer({ min: 1, max: 4 }),
          state: stateArb,
        }),
      ),
    ),
  )
  .map((ms) => ms as PlanMember[])

const fileArb = (i: number): fc.Arbitrary<PlanFile> =>
  fc.record({
    name: fc.constant(`f${i}`),
    hash: fc.constant(HASH),
    size: fc.integer({ min: 0, max: 1000 }),
    fileId: fc.option(fc.string({ minLength: 1, maxLength: 6 }), { nil: null }),
    creator: fc.option(fc.constantFrom(SELF, ...OTHERS), { nil: null }),
    held: fc.boolean(),
    holders: fc.subarray(OTHERS),
  })

const filesArb = fc
  .integer({ min: 1, max: 8 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => fileArb(i))))

const replicasArb = fc.option(fc.integer({ min: 1, max: 5 }), { nil: null })

/** A desired-set function that answers any subset of the candidates (deterministic per file). */
const arbitraryDesiredArb: fc.Arbitrary<DesiredHolders> = fc
  .array(fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }), { minLength: 8, maxLength: 8 })
  .map((picks) => (file, candidates) => {
    const row = picks[Number(file.name.slice(1))]!
    return candidates.filter((_, i) => row[i]).map((c) => c.name)
  })

function inputOf(
  members: PlanMember[],
  files: PlanFile[],
  replicas: number | null,
  desired: DesiredHolders = desiredHolders,
): PlanInput {
  return { self: SELF, selfWeight: 2, replicas, members, files, desired }
}

function upHolders(input: PlanInput, file: PlanFile): string[] {
  const up = new Set(input.members.filter((m) => m.state === 'up').map((m) => m.name))
  return file.holders.filter((h) => up.has(h))
}

function wantedOf(input: PlanInput): number {
  const n = candidatesOf(input).length
  return input.replicas === null ? n : Math.min(input.replicas, n)
}

describe('replication planner: safety', () => {
  const desiredArb = fc.oneof(fc.constant(desiredHolders as DesiredHolders), arbitraryDesiredArb)

  it('never drops a copy below K live copies elsewhere, whatever the desired sets', () => {
    fc.assert(
      fc.property(membersArb, filesArb, replicasArb, desiredArb, (members, files, k, desired) => {
        const input = inputOf(members, files, k, desired)
        const wanted = wantedOf(input)
        for (const step of plan(input).drop) {
          const file = files.find((f) => f.name === step.name)!
          expect(file.held).toBe(true)
          expect(upHolders(input, file).length).toBeGreaterThanOrEqual(Math.max(1, wanted))
        }
      }),
      { numRuns: 500 },
    )
  })

  it('never drops when a member of the desired set lacks the hash or is not up', () => {
    fc.assert(
      fc.property(membersArb, filesArb, replicasArb, desiredArb, (members, files, k, desired) => {
        const input = inputOf(members, files, k, desired)
        const candidates = candidatesOf(input)
        for (const step of plan(input).drop) {
          const file = files.find((f) => f.name === step.name)!
          const d = desired(file, candidates, k)
          expect(d).not.toContain(SELF)
          for (const member of d) expect(upHolders(input, file)).toContain(member)
        }
      }),
      { numRuns: 500 },
    )
  })

  it('never drops while a member is in its grace window', () => {
    fc.assert(
      fc.property(membersArb, filesArb, replicasArb, desiredArb, (members, files, k, desired) => {
        fc.pre(members.some((m) => m.state === 'grace'))
        expect(plan(inputOf(members, files, k, desired)).drop).toEqual([])
      }),
      { numRuns: 300 },
    )
  })

  it('never drops with full mirroring (no --replicas)', () => {
    fc.assert(
      fc.property(membersArb, filesArb, (members, files) => {
        expect(plan(inputOf(members, files, null)).drop).toEqual([])
      }),
      { numRuns: 300 },
    )
  })

  it('fetches only a desired file it lacks, from up holders of that version', () => {
    fc.assert(
      fc.property(membersArb, filesArb, replicasArb, desiredArb, (members, files, k, desired) => {
        const input = inputOf(members, files, k, desired)
        const candidates = candidatesOf(input)
        for (const step of plan(input).fetch) {
          const file = files.find((f) => f.name === step.name)!
          expect(file.held).toBe(false)
          expect(desired(file, candidates, k)).toContain(SELF)
          expect(step.from.length).toBeGreaterThan(0)
          for (const from of step.from) expect(upHolders(input, file)).toContain(from)
        }
      }),
      { numRuns: 500 },
    )
  })

  it('copies the files with the fewest live copies first (healing before rebalancing)', () => {
    fc.assert(
      fc.property(membersArb, filesArb, replicasArb, (members, files, k) => {
        const copies = plan(inputOf(members, files, k)).fetch.map((step) => step.copies)
        expect(copies).toEqual([...copies].sort((x, y) => x - y))
      }),
      { numRuns: 200 },
    )
  })

  it('counts under-replicated and surplus files against min(K, candidates)', () => {
    const members: PlanMember[] = [
      { name: 'B', weight: 1, state: 'up' },
      { name: 'C', weight: 1, state: 'gone' },
    ]
    const file = (name: string, held: boolean, holders: string[]): PlanFile => ({
      name,
      hash: HASH,
      size: 1,
      fileId: name,
      creator: SELF,
      held,
      holders,
    })
    const made = plan(
      inputOf(
        members,
        [file('one', true, []), file('two', true, ['B']), file('c', true, ['C'])],
        3,
      ),
    )
    // Candidates: A and B (C is given up), so 2 copies are wanted; C's copy is not live.
    expect(made).toMatchObject({ files: 3, held: 3, underReplicated: 2, surplus: 0 })
  })
})

describe('replication planner: every member at once, from one view', () => {
  /** The cluster: per member, the files it holds; the members' states as every member sees them. */
  const clusterArb = fc.record({
    members: fc.subarray(OTHERS, { minLength: 1 }).chain((names) =>
      fc.tuple(
        ...names.map((name) =>
          fc.record({
            name: fc.constant(name),
            weight: fc.integer({ min: 1, max: 4 }),
            state: fc.constantFrom<MemberState>('up', 'gone'),
          }),
        ),
      ),
    ),
    files: fc.array(
      fc.record({
        fileId: fc.string({ minLength: 1, maxLength: 6 }),
        creator: fc.constantFrom(SELF, ...OTHERS),
        holders: fc.subarray([SELF, ...OTHERS], { minLength: 1 }),
      }),
      { minLength: 1, maxLength: 6 },
    ),
    replicas: fc.integer({ min: 1, max: 4 }),
    /** Which copies succeed in the first rounds (a copy may fail: its source went away…). */
    copyOk: fc.array(fc.boolean(), { minLength: 64, maxLength: 64 }),
  })

  it('copies never fall below what they were (copies may fail), and settle at K on the desired holders', () => {
    fc.assert(
      fc.property(clusterArb, ({ members: others, files, replicas, copyOk }) => {
        let copies = 0
        const copied = (round: number): boolean => round >= 4 || copyOk[copies++ % 64]!
        const all: PlanMember[] = [{ name: SELF, weight: 2, state: 'up' }, ...others]
        const live = new Set(all.filter((m) => m.state === 'up').map((m) => m.name))
        const held = files.map((f) => new Set(f.holders))
        const liveCopies = (i: number): number => [...held[i]!].filter((h) => live.has(h)).length
        for (let round = 0; round < 8; round++) {
          const before = files.map((_, i) => liveCopies(i))
          // Every live member plans from the same holdings, and all act at once.
          const actions = [...live].map((self) => {
            const input: PlanInput = {
              self,
              selfWeight: all.find((m) => m.name === self)!.weight,
              replicas,
              members: all.filter((m) => m.name !== self),
              files: files.map((f, i) => ({
                name: `f${i}`,
                hash: HASH,
                size: 1,
                fileId: f.fileId,
                creator: f.creator,
                held: held[i]!.has(self),
                holders: [...held[i]!].filter((h) => h !== self),
              })),
              desired: desiredHolders,
            }
            return { self, made: plan(input) }
          })
          for (const { self, made } of actions) {
            for (const step of made.fetch)
              if (copied(round)) held[Number(step.name.slice(1))]!.add(self)
            for (const step of made.drop) held[Number(step.name.slice(1))]!.delete(self)
          }
          files.forEach((_, i) => {
            const wanted = Math.min(replicas, live.size)
            expect(liveCopies(i)).toBeGreaterThanOrEqual(Math.min(before[i]!, wanted))
          })
        }
        // Settled: each file with a live copy is on exactly its desired holders.
        const candidates = all.filter((m) => live.has(m.name))
        files.forEach((f, i) => {
          if (before0(f, live) === 0) return
          const d = desiredHolders({ ...f, name: `f${i}` }, candidates, replicas)
          expect([...held[i]!].filter((h) => live.has(h)).sort()).toEqual([...d].sort())
        })
      }),
      { numRuns: 300 },
    )
  })
})

/** Live copies a file had at the start (none: nothing can bring it back). */
function before0(f: { holders: string[] }, live: ReadonlySet<string>): number {
  return f.holders.filter((h) => live.has(h)).length
}
