// The per-path read/write locks (locks/lock-manager.ts) with timers injected: readers share, a
// writer excludes everyone; waiters are served first come, first served (a waiting writer holds
// back the readers that come after it); several names are taken in one order (no deadlock);
// a request waits at most its timeout in all, and a request that timed out leaves nothing held;
// releases are idempotent; what the snapshot counts. No real time passes.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { TandemError } from '../../src/protocol/index.js'
import {
  LockManager,
  type LockMode,
  type LockSnapshot,
  type Release,
  type Timers,
} from '../../src/server/locks/lock-manager.js'

/** Timers driven by hand: `advance` runs what falls due, in order, and lets promises settle. */
class FakeTimers implements Timers {
  now = 0
  #next = 1
  readonly #due = new Map<number, { at: number; fn: () => void }>()

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++
    this.#due.set(id, { at: this.now + ms, fn })
    return id
  }

  clearTimeout(handle: unknown): void {
    this.#due.delete(handle as number)
  }

  /** Timers still armed. */
  get pending(): number {
    return this.#due.size
  }

  async advance(ms: number): Promise<void> {
    const end = this.now + ms
    for (;;) {
      let first: [number, { at: number; fn: () => void }] | undefined
      for (const item of this.#due) if (!first || item[1].at < first[1].at) first = item
      if (!first || first[1].at > end) break
      this.#due.delete(first[0])
      this.now = first[1].at
      first[1].fn()
      await settle()
    }
    this.now = end
    await settle()
  }
}

/** Let every promise chain that can move, move (one turn of the event loop). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve))

interface Tracked {
  readonly promise: Promise<Release>
  state: 'waiting' | 'granted' | 'failed'
  release: Release
  error?: unknown
}

/** Ask for a lock and watch how the request ends. */
function ask(locks: LockManager, names: string[], mode: LockMode, timeoutMs = 1_000): Tracked {
  const promise = locks.acquire(names, mode, timeoutMs)
  const t: Tracked = {
    promise,
    state: 'waiting',
    release: () => {
      throw new Error(`released before granted: ${mode} ${names.join(',')}`)
    },
  }
  promise.then(
    (release) => {
      t.state = 'granted'
      t.release = release
    },
    (err: unknown) => {
      t.state = 'failed'
      t.error = err
    },
  )
  return t
}

function setup() {
  const timers = new FakeTimers()
  const locks = new LockManager(timers)
  const view = (): Record<string, Omit<LockSnapshot, 'name'>> =>
    Object.fromEntries(locks.snapshot().map(({ name, ...counts }) => [name, counts]))
  return { timers, locks, view }
}

const states = (...ts: Tracked[]) => ts.map((t) => t.state)

describe('LockManager: modes', () => {
  it('lets readers share a name', async () => {
    const { locks, timers, view } = setup()
    const r1 = ask(locks, ['a'], 'read')
    const r2 = ask(locks, ['a'], 'read')
    await settle()
    expect(states(r1, r2)).toEqual(['granted', 'granted'])
    expect(view()).toEqual({ a: { readers: 2, writers: 0, waiting: 0 } })
    expect(timers.pending).toBe(0) // a grant disarms its timeout
    r1.release()
    r2.release()
    expect(locks.snapshot()).toEqual([])
    expect(locks.size).toBe(0)
  })

  it('lets a writer exclude readers and writers, and wakes the readers together after it', async () => {
    const { locks, view } = setup()
    const w = ask(locks, ['a'], 'write')
    await settle()
    const r1 = ask(locks, ['a'], 'read')
    const w2 = ask(locks, ['a'], 'write')
    const r2 = ask(locks, ['a'], 'read')
    const other = ask(locks, ['b'], 'write') // another name is not held back
    await settle()
    expect(states(w, r1, w2, r2, other)).toEqual([
      'granted',
      'waiting',
      'waiting',
      'waiting',
      'granted',
    ])
    expect(view()).toEqual({
      a: { readers: 0, writers: 1, waiting: 3 },
      b: { readers: 0, writers: 1, waiting: 0 },
    })
    w.release()
    await settle()
    // First come, first served: r1 now; w2 waits for it; r2 waits behind w2.
    expect(states(r1, w2, r2)).toEqual(['granted', 'waiting', 'waiting'])
    r1.release()
    await settle()
    expect(states(w2, r2)).toEqual(['granted', 'waiting'])
    w2.release()
    await settle()
    expect(r2.state).toBe('granted')
    r2.release()
    other.release()
    expect(locks.snapshot()).toEqual([])
  })

  it('does not starve a waiting writer with a stream of new readers', async () => {
    const { locks, view } = setup()
    const first = ask(locks, ['a'], 'read')
    await settle()
    const w = ask(locks, ['a'], 'write')
    // Readers keep coming while the first still reads: none of them passes the writer.
    const later = Array.from({ length: 10 }, () => ask(locks, ['a'], 'read'))
    await settle()
    expect(w.state).toBe('waiting')
    expect(later.every((r) => r.state === 'waiting')).toBe(true)
    expect(view().a).toEqual({ readers: 1, writers: 0, waiting: 11 })
    first.release()
    await settle()
    expect(w.state).toBe('granted')
    expect(later.every((r) => r.state === 'waiting')).toBe(true)
    w.release()
    await settle()
    // The readers that queued behind the writer all go in together.
    expect(later.every((r) => r.state === 'granted')).toBe(true)
    expect(view().a).toEqual({ readers: 10, writers: 0, waiting: 0 })
    for (const r of later) r.release()
    expect(locks.size).toBe(0)
  })

  it('serves writers in the order they asked', async () => {
    const { locks } = setup()
    const order: number[] = []
    const writers = Array.from({ length: 5 }, (_, i) => {
      const t = ask(locks, ['a'], 'write')
      void t.promise.then(() => order.push(i))
      return t
    })
    for (let i = 0; i < writers.length; i++) {
      await settle()
      expect(order).toEqual([...Array(i + 1).keys()])
      writers[i]!.release()
    }
    expect(locks.size).toBe(0)
  })

  it('lets at most 64 readers hold one name; the next waits for one of them', async () => {
    const { locks } = setup()
    const readers = Array.from({ length: 65 }, () => ask(locks, ['a'], 'read'))
    await settle()
    expect(readers.filter((r) => r.state === 'granted')).toHaveLength(64)
    expect(readers[64]!.state).toBe('waiting')
    readers[0]!.release()
    await settle()
    expect(readers[64]!.state).toBe('granted')
    for (const r of readers.slice(1)) r.release()
    expect(locks.size).toBe(0)
  })
})

describe('LockManager: several names', () => {
  it('takes names in one order: [a,b] and [b,a] asked at once do not deadlock', async () => {
    const { locks, timers } = setup()
    const x = ask(locks, ['a', 'b'], 'write')
    const y = ask(locks, ['b', 'a'], 'write')
    await settle()
    // Unsorted, x would hold a and y b, each waiting for the other until both time out.
    expect(states(x, y)).toEqual(['granted', 'waiting'])
    x.release()
    await settle()
    expect(y.state).toBe('granted')
    y.release()
    expect(locks.size).toBe(0)
    expect(timers.pending).toBe(0)
  })

  it('never deadlocks a cycle of three callers, whatever the modes', async () => {
    for (const modes of [
      ['write', 'write', 'write'],
      ['read', 'write', 'read'],
      ['write', 'read', 'write'],
    ] as const) {
      const { locks } = setup()
      const ts = [
        ask(locks, ['a', 'b'], modes[0]),
        ask(locks, ['b', 'c'], modes[1]),
        ask(locks, ['c', 'a'], modes[2]),
      ]
      for (let round = 0; round < 3 && ts.some((t) => t.state !== 'granted'); round++) {
        await settle()
        for (const t of ts) if (t.state === 'granted') t.release()
      }
      await settle()
      expect(states(...ts)).toEqual(['granted', 'granted', 'granted'])
      for (const t of ts) t.release()
      expect(locks.size).toBe(0)
    }
  })

  it('de-duplicates names: [a, a, b] as a writer is one write lock on each', async () => {
    const { locks, view } = setup()
    const w = ask(locks, ['a', 'a', 'b', 'a'], 'write')
    await settle()
    expect(w.state).toBe('granted') // taken twice, the second would wait for the first for ever
    expect(view()).toEqual({
      a: { readers: 0, writers: 1, waiting: 0 },
      b: { readers: 0, writers: 1, waiting: 0 },
    })
    w.release() // one release frees them all
    expect(locks.size).toBe(0)
  })

  it('grants an empty list at once', async () => {
    const { locks, timers } = setup()
    const t = ask(locks, [], 'write')
    await settle()
    expect(t.state).toBe('granted')
    t.release()
    expect(locks.size).toBe(0)
    expect(timers.pending).toBe(0)
  })
})

describe('LockManager: timeouts', () => {
  it('fails with ERR_TIMEOUT past the timeout, not before', async () => {
    const { locks, timers } = setup()
    const w = ask(locks, ['a'], 'write')
    const r = ask(locks, ['a'], 'read', 100)
    await timers.advance(99)
    expect(r.state).toBe('waiting')
    await timers.advance(1)
    expect(r.state).toBe('failed')
    expect(r.error).toBeInstanceOf(TandemError)
    expect((r.error as TandemError).code).toBe('ERR_TIMEOUT')
    expect((r.error as TandemError).message).toBe("waited over 100 ms for the read lock on 'a'")
    w.release()
    await settle()
    // The grant that came too late was handed straight back: nothing is held or queued.
    expect(locks.snapshot()).toEqual([])
    expect(timers.pending).toBe(0)
    // And the name is free for the next one.
    const next = ask(locks, ['a'], 'write')
    await settle()
    expect(next.state).toBe('granted')
    next.release()
  })

  it('a granted lock is not touched by its timeout falling due later', async () => {
    const { locks, timers, view } = setup()
    const w = ask(locks, ['a'], 'write', 100)
    await settle()
    await timers.advance(1_000)
    expect(w.state).toBe('granted')
    expect(view()).toEqual({ a: { readers: 0, writers: 1, waiting: 0 } })
    w.release()
    expect(locks.size).toBe(0)
  })

  it('releases the names already taken when a later one times out', async () => {
    const { locks, timers, view } = setup()
    const holder = ask(locks, ['b'], 'write')
    const y = ask(locks, ['a', 'b'], 'write', 100)
    await settle()
    expect(view()).toEqual({
      a: { readers: 0, writers: 1, waiting: 0 }, // y holds a, waits for b
      b: { readers: 0, writers: 1, waiting: 1 },
    })
    await timers.advance(100)
    expect(y.state).toBe('failed')
    expect((y.error as TandemError).code).toBe('ERR_TIMEOUT')
    expect((y.error as TandemError).message).toContain("lock on 'b'")
    const a = ask(locks, ['a'], 'write')
    await settle()
    expect(a.state).toBe('granted')
    a.release()
    holder.release()
    await settle()
    expect(locks.snapshot()).toEqual([])
  })

  it('bounds the whole request by its timeout, not each name', async () => {
    const { locks, timers } = setup()
    const holdA = ask(locks, ['a'], 'write')
    const holdB = ask(locks, ['b'], 'write')
    const y = ask(locks, ['a', 'b'], 'write', 100)
    await timers.advance(60)
    holdA.release() // y takes a after 60 ms, then waits for b
    await timers.advance(39)
    expect(y.state).toBe('waiting')
    await timers.advance(1)
    expect(y.state).toBe('failed') // 100 ms in all, as --lock-timeout-ms says
    expect((y.error as TandemError).message).toBe("waited over 100 ms for the write lock on 'b'")
    holdB.release()
    await settle()
    expect(locks.snapshot()).toEqual([])
    expect(timers.pending).toBe(0)
  })

  // Known, not fixed (reported): a request that timed out stays in the path's async-mutex queue
  // (a Semaphore cannot drop one waiter) until its turn comes and the grant is handed back. Till
  // then `status` counts it as waiting, and a writer's place still holds back the readers that
  // came after it, though nobody wants to write any more. These two fail until that is fixed.
  it.fails('does not count a request that timed out as waiting', async () => {
    const { locks, timers, view } = setup()
    const holder = ask(locks, ['a'], 'read')
    const w = ask(locks, ['a'], 'write', 100)
    await timers.advance(100)
    expect(w.state).toBe('failed')
    expect(view()).toEqual({ a: { readers: 1, writers: 0, waiting: 0 } })
    holder.release()
    await settle()
    expect(locks.snapshot()).toEqual([])
  })

  it.fails('a writer that timed out no longer holds back the readers after it', async () => {
    const { locks, timers } = setup()
    const holder = ask(locks, ['a'], 'read')
    const w = ask(locks, ['a'], 'write', 100)
    await timers.advance(100)
    expect(w.state).toBe('failed')
    // Nobody wants to write any more: a reader shares with the reader still there.
    const r = ask(locks, ['a'], 'read', 100)
    await settle()
    expect(r.state).toBe('granted')
    r.release()
    holder.release()
    await settle()
    expect(locks.snapshot()).toEqual([])
  })
})

describe('LockManager: releases', () => {
  it('are idempotent: a second release frees nothing that another holds', async () => {
    const { locks, view } = setup()
    const r1 = ask(locks, ['a', 'b'], 'read')
    const r2 = ask(locks, ['a'], 'read')
    await settle()
    const w = ask(locks, ['a'], 'write')
    await settle()
    r1.release()
    r1.release()
    r1.release()
    await settle()
    expect(w.state).toBe('waiting') // r2 still reads
    expect(view()).toEqual({ a: { readers: 1, writers: 0, waiting: 1 } })
    r2.release()
    await settle()
    expect(w.state).toBe('granted')
    w.release()
    w.release()
    expect(locks.snapshot()).toEqual([])
    // The name can be taken and shared again as usual.
    const again = [ask(locks, ['a'], 'read'), ask(locks, ['a'], 'read')]
    await settle()
    expect(states(...again)).toEqual(['granted', 'granted'])
    expect(view()).toEqual({ a: { readers: 2, writers: 0, waiting: 0 } })
  })
})

describe('LockManager: property', () => {
  type Step =
    | { op: 'acquire'; names: string[]; mode: LockMode; timeoutMs: number }
    | { op: 'release'; pick: number }
    | { op: 'advance'; ms: number }

  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({
      op: fc.constant('acquire' as const),
      names: fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 3 }),
      mode: fc.constantFrom<LockMode>('read', 'write'),
      timeoutMs: fc.integer({ min: 1, max: 50 }),
    }),
    fc.record({ op: fc.constant('release' as const), pick: fc.nat() }),
    fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 30 }) }),
  )

  it('never lets a writer overlap anyone, and ends with nothing held or queued', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 40 }), async (steps) => {
        const { locks, timers } = setup()
        // What the callers hold, as they were told (independent of the manager's own counts).
        const holding = new Map<string, { readers: number; writers: number }>()
        const held: { release: Release; names: string[]; mode: LockMode }[] = []
        const asked: Promise<unknown>[] = []
        const check = () => {
          for (const [name, h] of holding) {
            expect(h.writers <= 1, `two writers on ${name}`).toBe(true)
            expect(h.writers === 0 || h.readers === 0, `a writer and readers on ${name}`).toBe(true)
          }
          // The manager's own counts (which also see requests holding some of their names).
          const snapshot = new Map(locks.snapshot().map((s) => [s.name, s]))
          for (const s of snapshot.values()) {
            expect(s.writers <= 1 && (s.writers === 0 || s.readers === 0)).toBe(true)
            expect(s.waiting).toBeGreaterThanOrEqual(0)
          }
          for (const [name, h] of holding) {
            expect(snapshot.get(name)?.readers ?? 0).toBeGreaterThanOrEqual(h.readers)
            expect(snapshot.get(name)?.writers ?? 0).toBeGreaterThanOrEqual(h.writers)
          }
        }
        const count = (names: string[], mode: LockMode, by: number) => {
          for (const name of new Set(names)) {
            const h = holding.get(name) ?? { readers: 0, writers: 0 }
            if (mode === 'read') h.readers += by
            else h.writers += by
            holding.set(name, h)
          }
        }
        for (const s of steps) {
          if (s.op === 'acquire') {
            asked.push(
              locks.acquire(s.names, s.mode, s.timeoutMs).then(
                (release) => {
                  count(s.names, s.mode, 1)
                  check()
                  held.push({ release, names: s.names, mode: s.mode })
                },
                (err: unknown) => expect((err as TandemError).code).toBe('ERR_TIMEOUT'),
              ),
            )
          } else if (s.op === 'release' && held.length > 0) {
            const [h] = held.splice(s.pick % held.length, 1)
            h!.release()
            count(h!.names, h!.mode, -1)
          } else if (s.op === 'advance') {
            await timers.advance(s.ms)
          }
          await settle()
          check()
        }
        // Let every request end (granted, then released, or timed out): nothing is left.
        for (let i = 0; i < 200 && (held.length > 0 || timers.pending > 0); i++) {
          for (const h of held.splice(0)) {
            h.release()
            count(h.names, h.mode, -1)
          }
          await timers.advance(10)
        }
        await Promise.all(asked)
        expect(timers.pending).toBe(0)
        expect(locks.snapshot()).toEqual([])
      }),
      { numRuns: 150 },
    )
  })
})
