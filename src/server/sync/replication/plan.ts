/**
 * The replication planner (pure, no I/O): for each live file of the index, what this member does
 * about its own copy — fetch one (it is a desired holder and lacks it), drop one (it is not, and
 * every desired holder is up and holds this very version), or nothing — and how many files are
 * under-replicated or have surplus copies (status). The driver (driver.ts) performs the steps.
 *
 * Safety: a drop needs every member of the desired set D up and holding this hash, D at least as
 * large as the copies wanted, and no member in its grace window (each one is up, or down for
 * longer than --rereplicate-after and given up): while a member's fate is undecided, members may
 * compute different desired sets, and a copy dropped on one view could be the one another view
 * counts on.
 */

/** A member as the plan sees it: 'grace' is down for less than --rereplicate-after. */
export type MemberState = 'up' | 'grace' | 'gone'

export interface PlanMember {
  name: string
  /** Its placement weight (capacity in GiB, at least 1). */
  weight: number
  state: MemberState
}

/** One live file of this member's index. */
export interface PlanFile {
  name: string
  hash: string
  size: number
  fileId: string | null
  creator: string | null
  /** This member holds this version on its disk. */
  held: boolean
  /** The peers that announced they hold this version (this hash) of the name. */
  holders: readonly string[]
}

/** The desired holders of a file among candidates (placement/desired.ts's desiredHolders). */
export type DesiredHolders = (
  file: { fileId: string | null; creator: string | null; name: string },
  candidates: { name: string; weight: number }[],
  k: number | null,
) => string[]

export interface PlanInput {
  self: string
  selfWeight: number
  /** --replicas: copies wanted of each file (null: every member). */
  replicas: number | null
  /** The other members this one knows (itself excluded). */
  members: readonly PlanMember[]
  files: Iterable<PlanFile>
  desired: DesiredHolders
}

export interface FetchStep {
  name: string
  hash: string
  size: number
  /** Up members that hold this version: where to copy it from. */
  from: string[]
  /** Its live copies now (the fewest are copied first: healing before rebalancing). */
  copies: number
}

export interface DropStep {
  name: string
  hash: string
  size: number
}

export interface Plan {
  files: number
  held: number
  /** Live copies (at up members and here) fewer than min(K, candidates). */
  underReplicated: number
  /** Live copies more than min(K, candidates). */
  surplus: number
  fetch: FetchStep[]
  drop: DropStep[]
}

/** What this member does about one file: its step, and how its copies stand. */
export interface FileVerdict {
  step: { kind: 'fetch'; from: string[]; copies: number } | { kind: 'drop' } | null
  /** Live copies minus the copies wanted (negative: under-replicated, positive: surplus). */
  balance: number
}

/** The candidates of the desired sets: this member, and every member up or in its grace window. */
export function candidatesOf(
  input: Pick<PlanInput, 'self' | 'selfWeight' | 'members'>,
): { name: string; weight: number }[] {
  return [
    { name: input.self, weight: input.selfWeight },
    ...input.members
      .filter((m) => m.state !== 'gone' && m.name !== input.self)
      .map((m) => ({ name: m.name, weight: m.weight })),
  ]
}

export function plan(input: PlanInput): Plan {
  const candidates = candidatesOf(input)
  const up = new Set(input.members.filter((m) => m.state === 'up').map((m) => m.name))
  const settled = input.members.every((m) => m.state !== 'grace')
  const result: Plan = { files: 0, held: 0, underReplicated: 0, surplus: 0, fetch: [], drop: [] }
  for (const file of input.files) {
    result.files++
    if (file.held) result.held++
    const verdict = judge(input, candidates, up, settled, file)
    if (verdict.balance < 0) result.underReplicated++
    if (verdict.balance > 0) result.surplus++
    const step = verdict.step
    if (step?.kind === 'fetch')
      result.fetch.push({
        name: file.name,
        hash: file.hash,
        size: file.size,
        from: step.from,
        copies: step.copies,
      })
    else if (step?.kind === 'drop')
      result.drop.push({ name: file.name, hash: file.hash, size: file.size })
  }
  // The files with the fewest live copies first: a file down to one copy before a rebalancing move.
  result.fetch.sort((a, b) => a.copies - b.copies)
  return result
}

/** The verdict on one file alone (the driver checks a drop again with fresh holdings). */
export function judgeFile(input: Omit<PlanInput, 'files'>, file: PlanFile): FileVerdict {
  const up = new Set(input.members.filter((m) => m.state === 'up').map((m) => m.name))
  const settled = input.members.every((m) => m.state !== 'grace')
  return judge(input, candidatesOf(input), up, settled, file)
}

function judge(
  input: Omit<PlanInput, 'files'>,
  candidates: { name: string; weight: number }[],
  up: ReadonlySet<string>,
  settled: boolean,
  file: PlanFile,
): FileVerdict {
  const { self } = input
  const wanted =
    input.replicas === null ? candidates.length : Math.min(input.replicas, candidates.length)
  const upHolders = [...new Set(file.holders)].filter((h) => h !== self && up.has(h))
  const live = upHolders.length + (file.held ? 1 : 0)
  const balance = live - wanted
  const desired = input.desired(file, candidates, input.replicas)
  const mine = desired.includes(self)
  if (mine && !file.held && upHolders.length > 0)
    return { step: { kind: 'fetch', from: upHolders, copies: live }, balance }
  const dropSafe =
    file.held &&
    !mine &&
    settled &&
    wanted >= 1 &&
    desired.length >= wanted &&
    upHolders.length >= wanted &&
    desired.every((d) => upHolders.includes(d))
  return { step: dropSafe ? { kind: 'drop' } : null, balance }
}
