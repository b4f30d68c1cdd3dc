/**
 * A server flag's length of time as a person types it (`--peer-timeout 5s`): a whole number of
 * milliseconds with `ms`, or of seconds (bare, or with s, m or h). Returns milliseconds, or
 * undefined when `text` is not one.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }

export const DURATION_FORMS = '5 (seconds), 5s, 1500ms, 2m or 1h'

export function parseDurationMs(text: string): number | undefined {
  const match = /^(\d+)\s*(ms|s|m|h)?$/.exec(text.trim().toLowerCase())
  if (!match) return undefined
  const ms = Number(match[1]) * UNIT_MS[match[2] ?? 's']!
  return Number.isSafeInteger(ms) ? ms : undefined
}
