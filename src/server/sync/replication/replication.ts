/**
 * Partial replication's composition (--replicas K): the live member view (from the `members`
 * table at start, then the links' ups and downs), the Placement the applier asks, and the driver
 * that heals and rebalances. The engine builds it before the applier (which takes `placement`)
 * and hands it the applier afterwards (`copies`).
 *
 * Without --replicas (K null: every member holds every file) it is built only while the index
 * lists files held elsewhere (the cluster ran with --replicas before): the driver then fetches
 * each of them from a member that holds it (never a drop: every member is desired), and ends
 * once every live file is held here. The members table is kept as with K, for ERR_MOVED meanwhile.
 */
import type { FileEntry } from '../../index/entry.js'
import type { IndexDb } from '../../index/database.js'
import { MemberRecords } from '../../index/member-records.js'
import { desiredHolders } from '../../placement/desired.js'
import type { PeerSource } from '../peer-source.js'
import type { PlacementStatus } from '../../../protocol/index.js'
import { capacityGiB } from '../../storage/capacity.js'
import { ReplicationDriver, type CopyMaker, type DriverReport } from './driver.js'
import { Holdings, type LiveEntries } from './holdings.js'
import { MemberView } from './member-view.js'
import { placementFrom, type Placement } from './placement.js'

/** What a link tells of the member behind it once it is up (h4's welcome fields, when sent). */
export interface LinkUp {
  name: string
  /** HOST:PORT of its control port. */
  address: string
  remote?: { http?: number | null; capacity?: number | null } | undefined
}

export interface ReplicationOptions {
  self: string
  /** The data directory (its file system's capacity is this member's weight). */
  root: string
  /** --replicas (null: every member, while files held elsewhere are fetched back). */
  replicas: number | null
  rereplicateAfterMs: number
  db: IndexDb
  index: LiveEntries
  copies(): CopyMaker
  sourceFor(peer: string): PeerSource | undefined
  report(r: DriverReport): void
  warn(message: string): void
}

export class Replication {
  readonly placement: Placement & { desiredOf(entry: FileEntry): string[] }
  readonly records: MemberRecords
  readonly #view: MemberView
  readonly #driver: ReplicationDriver
  readonly #replicas: number | null

  constructor(o: ReplicationOptions) {
    this.#replicas = o.replicas
    this.records = new MemberRecords(o.db)
    // No link is up yet: whatever an earlier run left recorded up (a crash) is down now, so that
    // ERR_MOVED never names a member as up before its link is.
    this.records.allDown()
    this.#view = new MemberView({ self: o.self, graceMs: o.rereplicateAfterMs })
    for (const m of this.records.all()) this.#view.known(m.name, m.capacity)
    const selfWeight = capacityGiB(o.root)
    this.placement = placementFrom({
      self: o.self,
      selfWeight,
      replicas: o.replicas,
      view: this.#view,
      desired: desiredHolders,
    })
    const holdings = new Holdings(o.db, o.index)
    this.#driver = new ReplicationDriver({
      self: o.self,
      selfWeight,
      replicas: o.replicas,
      untilAllHeld: o.replicas === null,
      view: this.#view,
      desired: desiredHolders,
      files: () => holdings.files(),
      file: (name) => holdings.file(name),
      copies: o.copies,
      sourceFor: o.sourceFor,
      report: o.report,
      warn: o.warn,
    })
  }

  /** A link is up (its welcome came): recorded, and placement looks again. */
  linkUp(link: LinkUp): void {
    const remote = link.remote
    const http =
      remote?.http === undefined
        ? undefined
        : remote.http === null
          ? null
          : `${hostOf(link.address)}:${remote.http}`
    this.records.up({ name: link.name, address: link.address, http, capacity: remote?.capacity })
    this.#view.up(link.name, remote?.capacity ?? this.records.get(link.name)?.capacity ?? null)
    this.#driver.nudge()
  }

  /** A member known by name before any link to it is up (a link's name from an earlier run). */
  known(name: string): void {
    this.#view.known(name, this.records.get(name)?.capacity ?? null)
  }

  linkDown(name: string): void {
    this.records.seen(name)
    this.#view.down(name)
    this.#driver.nudge()
  }

  /** Holdings changed here (an entry stored): plan again soon. */
  nudge(): void {
    this.#driver.nudge()
  }

  start(): void {
    this.#driver.start()
  }

  stop(): void {
    this.#driver.stop()
  }

  /** With --replicas only (undefined without: full mirroring has no placement to show). */
  status(): PlacementStatus | undefined {
    return this.#replicas === null ? undefined : this.#driver.status()
  }
}

/** The host of HOST:PORT (an IPv6 host keeps its brackets). */
function hostOf(address: string): string {
  return address.slice(0, address.lastIndexOf(':'))
}
