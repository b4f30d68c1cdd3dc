/**
 * The original tool's forms, rewritten before commander sees them: `tandem -lock -3` becomes
 * `tandem lock 3`, `-unlock` likewise; the index may be written with a dash or without, and a
 * name works too (`-lock plan.txt`). `tandem lock -3` is accepted the same way (commander would
 * take `-3` for an option).
 *
 * Only the command position is looked at (after the global options), so a `-lock` or `-3` given
 * as another command's argument or an option's value is left alone.
 */
const LOCK_COMMANDS = new Map([
  ['-lock', 'lock'],
  ['-unlock', 'unlock'],
  ['lock', 'lock'],
  ['unlock', 'unlock'],
])

/** Global options that take a value in the next argument. */
const GLOBAL_WITH_VALUE = new Set(['--server', '--client-id', '--wait'])

export function rewriteLegacyArgs(argv: readonly string[]): string[] {
  const out = [...argv]
  const at = commandPosition(out)
  const command = at === undefined ? undefined : LOCK_COMMANDS.get(out[at]!)
  if (at === undefined || command === undefined) return out
  out[at] = command
  const target = out[at + 1]
  if (target !== undefined && /^-\d+$/.test(target)) out[at + 1] = target.slice(1)
  return out
}

/** Where the command word is: the first argument that is not a global option or its value. */
function commandPosition(argv: readonly string[]): number | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') return undefined
    if (GLOBAL_WITH_VALUE.has(arg)) {
      i++
      continue
    }
    if (arg.startsWith('-') && !LOCK_COMMANDS.has(arg)) continue
    return i
  }
  return undefined
}
