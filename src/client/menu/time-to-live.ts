/**
 * A lock's time-to-live as a person types it in the menu: a duration as on the command line's
 * `--ttl` ("90", "90s", "10m", "2h", "1d"; the same parser), or nothing for "until unlocked".
 */
import { MAX_TTL_SECONDS, parseDuration } from '../duration.js'

/** Seconds, undefined for "until unlocked" (an empty answer), or why the answer is not one. */
export function parseTimeToLive(answer: string): { seconds: number | undefined } | string {
  if (answer.trim() === '') return { seconds: undefined }
  const seconds = parseDuration(answer)
  if (seconds === undefined)
    return 'A number of seconds, or with a unit: 90s, 10m, 2h, 1d (empty: until unlocked)'
  if (seconds < 1) return 'At least one second'
  if (seconds > MAX_TTL_SECONDS) return 'At most ten years'
  return { seconds }
}
