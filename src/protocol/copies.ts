/**
 * When two servers' copies of a file are the same version, and the copies of a file grouped by
 * version: the server decides `differs` with it, and the clients show the groups ("A,C≠B").
 */
import type { FileCopy } from './messages.js'

/**
 * Same version: the SHA-256s match; when a hash is not known (a file changed on disk since it
 * was indexed), size and mtime match (every copy of a version gets that version's mtime). A
 * symlink is the same as nothing but itself: links are never mirrored.
 */
export function sameVersion(a: FileCopy, b: FileCopy): boolean {
  if (a.symlink || b.symlink) return a === b
  if (a.sha256 && b.sha256) return a.sha256 === b.sha256
  return a.size === b.size && a.mtime === b.mtime
}

/**
 * The copies in groups of one version each, in the order their first server comes. A copy joins
 * a group only when it is the same as every copy in it (without a hash, "same" is not transitive).
 */
export function copyGroups(copies: readonly FileCopy[]): FileCopy[][] {
  const groups: FileCopy[][] = []
  for (const copy of copies) {
    const group = groups.find((g) => g.every((member) => sameVersion(member, copy)))
    if (group) group.push(copy)
    else groups.push([copy])
  }
  return groups
}
