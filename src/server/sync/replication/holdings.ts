/**
 * What the planner needs of the index: every live file of this member with the peers that
 * announced they hold that very version (peer_files rows with the same hash, held, not deleted),
 * read in two queries however many files there are, and the same for one name (a drop is checked
 * again just before it is made).
 */
import type { IndexDb } from '../../index/database.js'
import type { LocalEntry } from '../../index/entry.js'
import type { PlanFile } from './plan.js'

/** The index's side: its live entries and one entry by name. */
export interface LiveEntries {
  live(): LocalEntry[]
  get(name: string): LocalEntry | undefined
}

export class Holdings {
  readonly #index: LiveEntries
  readonly #all
  readonly #one

  constructor(db: IndexDb, index: LiveEntries) {
    this.#index = index
    this.#all = db.prepare(
      'SELECT peer, name, hash FROM peer_files WHERE held = 1 AND deleted = 0 AND hash IS NOT NULL',
    )
    this.#one = db.prepare(
      'SELECT peer, hash FROM peer_files WHERE name = ? AND held = 1 AND deleted = 0 AND hash IS NOT NULL',
    )
  }

  files(): PlanFile[] {
    const byName = new Map<string, { peer: string; hash: string }[]>()
    for (const row of this.#all.all() as { peer: string; name: string; hash: string }[]) {
      const list = byName.get(row.name)
      if (list) list.push(row)
      else byName.set(row.name, [row])
    }
    const files: PlanFile[] = []
    for (const entry of this.#index.live()) {
      const file = toPlanFile(entry, byName.get(entry.name) ?? [])
      if (file) files.push(file)
    }
    return files
  }

  file(name: string): PlanFile | undefined {
    const entry = this.#index.get(name)
    if (!entry) return undefined
    return toPlanFile(entry, this.#one.all(name) as { peer: string; hash: string }[])
  }
}

function toPlanFile(
  entry: LocalEntry,
  announced: readonly { peer: string; hash: string }[],
): PlanFile | undefined {
  if (entry.deleted || entry.hash === null) return undefined
  return {
    name: entry.name,
    hash: entry.hash,
    size: entry.size,
    fileId: entry.fileId ?? null,
    creator: entry.creator ?? null,
    held: entry.fingerprint !== null,
    holders: announced.filter((a) => a.hash === entry.hash).map((a) => a.peer),
  }
}
