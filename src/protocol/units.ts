/**
 * Sizes as people read them, in one unit system for every program of the project (the client's
 * listings and progress, the server's console, error messages): IEC powers of 1024.
 */

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB']

/** 0 B, 999 B, 1.0 KiB, 12.3 MiB, 1.5 GiB (powers of 1024). */
export function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024
    unit++
  }
  const digits = value >= 100 ? 0 : 1
  return `${value.toFixed(digits)} ${UNITS[unit]}`
}

/** How much of a transfer moved: "61 % (6.1 MiB of 10.0 MiB)", or "6.1 MiB" when the size is unknown. */
export function humanShare(bytes: number, size: number | null | undefined): string {
  if (size === null || size === undefined) return humanSize(bytes)
  const percent = size === 0 ? 100 : Math.floor((bytes * 100) / size)
  return `${percent} % (${humanSize(bytes)} of ${humanSize(size)})`
}
