/**
 * The replication driver: healing and rebalancing, one loop. It plans (plan.ts) on membership
 * changes, on holdings changes, when a member's grace window ends and every 2 s while there is
 * work (every 15 s otherwise), at most once per 2 s; then it copies what this member should hold
 * and lacks — at most 16 copies and 8 MiB in flight, within a byte budget (32 MiB/s by default),
 * so clients stay served — and drops the copies it should no longer hold once every desired holder is up and
 * holds that version (checked again with fresh holdings just before each drop), and the member
 * view has rested for 5 s (right after a member comes or goes, members' views differ: two
 * members that each think the other a desired holder must not both drop). Every change of
 * disk and index goes through the applier's locked, fsynced paths (`takeCopy`, `dropCopy`), so
 * kill -9 at any moment leaves both consistent, and a drop never runs while its name is copied.
 */
import type { PlacementStatus } from '../../../protocol/index.js'
import type { PeerSource } from '../peer-source.js'
import { ByteBudget } from './byte-budget.js'
import type { MemberView } from './member-view.js'
import {
  judgeFile,
  plan,
  type DesiredHolders,
  type FetchStep,
  type Plan,
  type PlanFile,
} from './plan.js'

const MIN_INTERVAL_MS = 2_000
const BUSY_INTERVAL_MS = 2_000
const IDLE_INTERVAL_MS = 15_000
const DEFAULT_BYTES_PER_SECOND = 32 * 1024 * 1024
/**
 * Copies in flight: each one waits mostly on round trips (the main thread's lock, the fetch,
 * fsyncs, the index), so a few at once heal far faster; the byte budget is what keeps clients
 * served. Measured: 1,000 × 64 KiB healed in 23 s after the grace with 16, 80 s with 2.
 */
const DEFAULT_IN_FLIGHT = 16
/** And at most this many bytes of copies in flight (a big file goes alone). */
const DEFAULT_IN_FLIGHT_BYTES = 8 * 1024 * 1024
/** Drops made per planning round (each one a locked, fsynced change). */
const DROPS_PER_ROUND = 200
/** Surplus copies wait for the member view to rest this long (members' views then agree). */
const DEFAULT_STABLE_MS = 5_000

/** What the applier does for the driver (crash-safe: under the name's lock, fsynced). */
export interface CopyMaker {
  takeCopy(source: PeerSource, name: string): Promise<'taken' | 'stale'>
  dropCopy(name: string): Promise<'dropped' | 'stale'>
}

export interface DriverReport {
  op: 'replica-copied' | 'replica-dropped'
  name: string
  peer: string
  size: number
}

export interface DriverOptions {
  self: string
  selfWeight: number
  /** --replicas (null: every member holds every file). */
  replicas: number | null
  /**
   * End once every live file is held here (full mirroring after --replicas was removed: the
   * files held elsewhere are fetched, then there is nothing left to do).
   */
  untilAllHeld?: boolean
  view: MemberView
  desired: DesiredHolders
  /** Every live file here with its holders, and one of them (holdings.ts). */
  files(): PlanFile[]
  file(name: string): PlanFile | undefined
  copies(): CopyMaker
  /** A link to an up member to copy from (undefined: not up). */
  sourceFor(peer: string): PeerSource | undefined
  report(r: DriverReport): void
  warn(message: string): void
  bytesPerSecond?: number
  maxInFlight?: number
  maxInFlightBytes?: number
  /** How long the member view must rest before a surplus copy is dropped (default 5 s). */
  stableMs?: number
}

export class ReplicationDriver {
  readonly #o: DriverOptions
  readonly #budget: ByteBudget
  readonly #maxInFlight: number
  readonly #maxInFlightBytes: number
  #inFlightBytes = 0
  #last: Plan | undefined
  #queue: FetchStep[] = []
  readonly #inFlight = new Set<string>()
  #dropsPending = 0
  #copied = 0
  #dropped = 0
  #bytes = 0
  #lastError: string | undefined
  #timer: NodeJS.Timeout | undefined
  #timerAt = 0
  #lastRun = 0
  #running = false
  #again = false
  #stopped = true

  constructor(options: DriverOptions) {
    this.#o = options
    this.#budget = new ByteBudget(options.bytesPerSecond ?? DEFAULT_BYTES_PER_SECOND)
    this.#maxInFlight = options.maxInFlight ?? DEFAULT_IN_FLIGHT
    this.#maxInFlightBytes = options.maxInFlightBytes ?? DEFAULT_IN_FLIGHT_BYTES
  }

  /** Started and not stopped (nor ended: `untilAllHeld` once every file is held here). */
  get active(): boolean {
    return !this.#stopped
  }

  start(): void {
    this.#stopped = false
    this.#schedule(0)
  }

  stop(): void {
    this.#stopped = true
    this.#budget.stop()
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#queue = []
  }

  /** Something changed (members, holdings): plan again soon (at most once per 2 s). */
  nudge(): void {
    if (this.#running) this.#again = true
    else this.#schedule(0)
  }

  /** Its figures (`replicas` 0 without --replicas, whose status shows none of them). */
  status(): PlacementStatus {
    const last = this.#last
    return {
      replicas: this.#o.replicas ?? 0,
      files: last?.files ?? 0,
      held: last?.held ?? 0,
      underReplicated: last?.underReplicated ?? 0,
      surplus: last?.surplus ?? 0,
      healing: {
        queued: this.#queue.length + this.#inFlight.size + this.#dropsPending,
        copied: this.#copied,
        dropped: this.#dropped,
        bytes: this.#bytes,
        ...(this.#lastError === undefined ? {} : { lastError: this.#lastError }),
      },
    }
  }

  #schedule(ms: number): void {
    if (this.#stopped) return
    const now = Date.now()
    const at = Math.max(now + ms, this.#lastRun + MIN_INTERVAL_MS)
    if (this.#timer !== undefined && this.#timerAt <= at) return
    clearTimeout(this.#timer)
    this.#timerAt = at
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      void this.#round()
    }, at - now)
    this.#timer.unref()
  }

  async #round(): Promise<void> {
    if (this.#stopped || this.#running) return
    this.#running = true
    this.#again = false
    this.#lastRun = Date.now()
    let busy = false
    try {
      const made = this.#plan()
      this.#last = made
      if (this.#o.untilAllHeld && made.held === made.files && this.#inFlight.size === 0) {
        this.stop()
        return
      }
      this.#queue = made.fetch.filter((step) => !this.#inFlight.has(step.name))
      this.#pump()
      await this.#drops(made)
      busy = made.fetch.length > 0 || made.drop.length > 0 || made.surplus > 0
      busy ||= made.underReplicated > 0
    } catch (err) {
      this.#lastError = (err as Error).message
      this.#o.warn(`replication: planning failed: ${this.#lastError}`)
      busy = true
    } finally {
      this.#running = false
    }
    if (this.#again) return this.#schedule(0)
    this.#schedule(busy ? BUSY_INTERVAL_MS : IDLE_INTERVAL_MS)
    // A member's grace window ending changes the desired sets: plan right then.
    const giveUp = this.#o.view.nextGiveUp()
    if (giveUp !== undefined) this.#schedule(Math.max(0, giveUp - Date.now() + 10))
  }

  #plan(): Plan {
    const files = this.#o.files()
    // Every file's creator is a member (a candidate until given up), linked yet or not.
    for (const f of files) if (f.creator !== null) this.#o.view.known(f.creator, null)
    return plan({ ...this.#input(), files })
  }

  #input(): Omit<Parameters<typeof plan>[0], 'files'> {
    const o = this.#o
    return {
      self: o.self,
      selfWeight: o.selfWeight,
      replicas: o.replicas,
      members: o.view.members(),
      desired: o.desired,
    }
  }

  #pump(): void {
    while (!this.#stopped && this.#inFlight.size < this.#maxInFlight) {
      const step = this.#queue[0]
      if (!step) return
      const fits = this.#inFlightBytes + step.size <= this.#maxInFlightBytes
      if (!fits && this.#inFlight.size > 0) return
      this.#queue.shift()
      if (this.#inFlight.has(step.name)) continue
      this.#inFlight.add(step.name)
      this.#inFlightBytes += step.size
      void this.#copy(step).finally(() => {
        this.#inFlight.delete(step.name)
        this.#inFlightBytes -= step.size
        this.#pump()
      })
    }
  }

  /** Copy `step` from the first of its holders that gives it. */
  async #copy(step: FetchStep): Promise<void> {
    await this.#budget.take(step.size)
    for (const peer of step.from) {
      if (this.#stopped) return
      const source = this.#o.sourceFor(peer)
      if (!source) continue
      try {
        const done = await this.#o.copies().takeCopy(source, step.name)
        if (done === 'taken') {
          this.#copied++
          this.#bytes += step.size
          this.#o.report({ op: 'replica-copied', name: step.name, peer, size: step.size })
        }
        return
      } catch (err) {
        this.#lastError = `${step.name} from ${peer}: ${(err as Error).message}`
      }
    }
  }

  /** The surplus copies, each checked again with fresh holdings just before it goes. */
  async #drops(made: Plan): Promise<void> {
    const stableMs = this.#o.stableMs ?? DEFAULT_STABLE_MS
    if (Date.now() - this.#o.view.stableSince() < stableMs) return
    const steps = made.drop.slice(0, DROPS_PER_ROUND)
    this.#dropsPending = steps.length
    try {
      for (const step of steps) {
        if (this.#stopped) return
        this.#dropsPending--
        if (this.#inFlight.has(step.name)) continue
        const file = this.#o.file(step.name)
        if (!file || file.hash !== step.hash) continue
        if (judgeFile(this.#input(), file).step?.kind !== 'drop') continue
        try {
          if ((await this.#o.copies().dropCopy(step.name)) === 'dropped') {
            this.#dropped++
            this.#o.report({ op: 'replica-dropped', name: step.name, peer: this.#o.self, size: 0 })
          }
        } catch (err) {
          this.#lastError = `dropping ${step.name}: ${(err as Error).message}`
        }
      }
    } finally {
      this.#dropsPending = 0
    }
  }
}
