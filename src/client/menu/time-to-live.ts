/** A lock's time-to-live as a person types it: "90", "90s", "10m", "2h", "1d", or nothing. */

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 }
const MAX_SECONDS = 10 * 365 * 86_400 // the protocol's limit

/** Seconds, undefined for "until unlocked" (an empty answer), or why the answer is not one. */
export function parseTimeToLive(answer: string): { seconds: number | undefined } | string {
  const text = answer.trim().toLowerCase()
  if (text === '') return { seconds: undefined }
  const match = /^(\d+)\s*([smhd]?)$/.exec(text)
  if (!match) return 'A number of seconds, or with a unit: 90s, 10m, 2h, 1d (empty: until unlocked)'
  const seconds = Number(match[1]) * UNIT_SECONDS[match[2] || 's']!
  if (seconds < 1) return 'At least one second'
  if (seconds > MAX_SECONDS) return 'At most ten years'
  return { seconds }
}
