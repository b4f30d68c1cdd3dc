/**
 * The original tool's forms, rewritten before commander sees them: `tandem -lock -3` becomes
 * `tandem lock 3`, and `-unlock` likewise (a dash before the index, or none).
 */
const LEGACY = new Map([
  ['-lock', 'lock'],
  ['-unlock', 'unlock'],
])

export function rewriteLegacyArgs(argv: readonly string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const command = LEGACY.get(arg)
    if (command === undefined) {
      out.push(arg)
      continue
    }
    out.push(command)
    const next = argv[i + 1]
    if (next !== undefined && /^-\d+$/.test(next)) {
      out.push(next.slice(1))
      i++
    }
  }
  return out
}
