/**
 * The placement rule: which members should hold a file. The member where the file was created
 * keeps its copy (it has the bytes already, and the user who made it is probably near it); the
 * other copies go to the highest weighted rendezvous scores among the candidates (rendezvous.ts).
 * A member's weight is the size of its file system, so bytes spread in proportion to disks.
 * Pure: the caller says who the candidates are (the members not given up on).
 */
import { hrwScore } from './rendezvous.js'

export interface PlacementMember {
  name: string
  /** Its weight: the size of its file system in GiB (at least 1). */
  weight: number
}

export interface PlacedFile {
  name: string
  /** The file's placement id (kept through renames); without one the file is placed by its name. */
  fileId?: string | null | undefined
  /** Where the file was first created. */
  creator?: string | null | undefined
}

/** The key a file is placed by. */
export function placementKey(file: PlacedFile): string {
  return file.fileId ?? `name:${file.name}`
}

/**
 * Every candidate, in the order the rule prefers them for this file: its creator first (when it is
 * a candidate), then by score, highest first (ties: the smaller name, the same everywhere).
 */
export function rankMembers(file: PlacedFile, candidates: readonly PlacementMember[]): string[] {
  const key = placementKey(file)
  const scored = candidates
    .filter((m) => m.name !== file.creator)
    .map((m) => ({ name: m.name, score: hrwScore(key, m.name, m.weight) }))
    .sort((a, b) => b.score - a.score || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const creator = candidates.some((m) => m.name === file.creator) ? [file.creator as string] : []
  return [...creator, ...scored.map((m) => m.name)]
}

/** The members that should hold `file`: the first `k` of the ranking (null: every candidate). */
export function desiredHolders(
  file: PlacedFile,
  candidates: readonly PlacementMember[],
  k: number | null,
): string[] {
  const ranked = rankMembers(file, candidates)
  return k === null ? ranked : ranked.slice(0, k)
}
