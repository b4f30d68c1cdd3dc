/** Checking a stored name as it is typed, with the protocol's own rules, before anything is sent. */
import { normalizeName } from '../../protocol/client.js'

/** true, or why the name cannot be used (for an inquirer `validate`). */
export function checkName(value: string): true | string {
  try {
    normalizeName(value.trim())
    return true
  } catch (err) {
    return `Not a valid name: ${err instanceof Error ? err.message : String(err)}`
  }
}

/** The canonical form of a name that passed checkName. */
export function storedName(value: string): string {
  return normalizeName(value.trim())
}
