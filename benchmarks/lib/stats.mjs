/** Small statistics for a handful of samples. */

/** The median (mean of the middle two for an even count); NaN for none. @param {number[]} values */
export function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return NaN
  const mid = Math.floor(sorted.length / 2)
  const at = (/** @type {number} */ i) => sorted[i] ?? NaN
  return sorted.length % 2 ? at(mid) : (at(mid - 1) + at(mid)) / 2
}

/** @param {number} x @param {number} [digits] */
export function round(x, digits = 2) {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

export const MiB = 1024 * 1024
export const GiB = 1024 * MiB
