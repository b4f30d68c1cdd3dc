/**
 * A length of time as a person types it, on the command line (`--ttl 10m`, `--wait 90s`) and in
 * the menu (a lock's time-to-live): a whole number of seconds, or one with a unit: s, m, h or d.
 * One parser for both, so that what works in one place works in the other.
 */

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 }

/** The longest time-to-live of a lock: the protocol's limit. */
export const MAX_TTL_SECONDS = 10 * 365 * 86_400

/** What a duration looks like, for error messages and help. */
export const DURATION_FORMS = '90 (seconds), 90s, 10m, 2h or 1d'

/**
 * The seconds `text` stands for ("90" → 90, "10m" → 600, " 2 H " → 7200), or undefined when it
 * is not a duration (a sign, a fraction, another unit, nothing, a number past what is exact).
 */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)\s*([smhd]?)$/.exec(text.trim().toLowerCase())
  if (!match) return undefined
  const seconds = Number(match[1]) * UNIT_SECONDS[match[2] || 's']!
  return Number.isSafeInteger(seconds) ? seconds : undefined
}

/** A duration in bounds, in seconds; or a sentence saying why `text` is not one. */
export function checkDuration(
  text: string,
  bounds: { min: number; max: number },
): { seconds: number } | { problem: string } {
  const seconds = parseDuration(text)
  if (seconds === undefined) return { problem: `not a duration: give ${DURATION_FORMS}` }
  if (seconds < bounds.min) return { problem: `too short: at least ${describeSeconds(bounds.min)}` }
  if (seconds > bounds.max) return { problem: `too long: at most ${describeSeconds(bounds.max)}` }
  return { seconds }
}

/** "1 second", "30 seconds", "10 years": bounds as a person reads them. */
function describeSeconds(seconds: number): string {
  const year = 365 * 86_400
  if (seconds >= year && seconds % year === 0) return plural(seconds / year, 'year')
  if (seconds >= 86_400 && seconds % 86_400 === 0) return plural(seconds / 86_400, 'day')
  return plural(seconds, 'second')
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`
}
