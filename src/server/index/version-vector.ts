/**
 * Version vectors (as in Syncthing's lib/protocol/vector.go): per file, a counter per server that
 * changed it. Comparing two vectors tells whether one version descends from the other or whether
 * they were made concurrently (a conflict). Pure: no I/O.
 */

/** Server name → number of changes that server made to the file's lineage. */
export type VersionVector = Readonly<Record<string, number>>

export type Ordering = 'equal' | 'greater' | 'lesser' | 'concurrent'

/** How `a` relates to `b`: 'greater' when a descends from b (a dominates), and so on. */
export function compareVectors(a: VersionVector, b: VersionVector): Ordering {
  let aAhead = false
  let bAhead = false
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    // Own keys only: a server named like an Object.prototype member must not read one.
    const x = Object.hasOwn(a, key) ? (a[key] ?? 0) : 0
    const y = Object.hasOwn(b, key) ? (b[key] ?? 0) : 0
    if (x > y) aAhead = true
    else if (y > x) bAhead = true
  }
  if (aAhead && bAhead) return 'concurrent'
  if (aAhead) return 'greater'
  if (bAhead) return 'lesser'
  return 'equal'
}

/** The element-wise maximum: a version that has seen both. */
export function mergeVectors(a: VersionVector, b: VersionVector): VersionVector {
  const merged: Record<string, number> = { ...a }
  for (const [key, value] of Object.entries(b)) {
    const mine = Object.hasOwn(merged, key) ? (merged[key] ?? 0) : 0
    // Defined, not assigned: for a server named __proto__ an assignment would set the prototype.
    Object.defineProperty(merged, key, {
      value: Math.max(mine, value),
      writable: true,
      enumerable: true,
      configurable: true,
    })
  }
  return merged
}

/** A new version made by `server` on top of `base`. */
export function bumpVector(base: VersionVector, server: string): VersionVector {
  return { ...base, [server]: (Object.hasOwn(base, server) ? (base[server] ?? 0) : 0) + 1 }
}
