/**
 * The name of a conflict copy: `NAME.sync-conflict-YYYYMMDD-HHMMSS-SERVER.EXT`, as
 * Syncthing names them. The time is the losing version's modification time in UTC and SERVER the
 * server that made it, so every server that resolves the same conflict picks the same name (the
 * copies then merge instead of multiplying). Pure.
 */
import path from 'node:path'

export function conflictName(name: string, loserMtimeMs: number, loserServer: string): string {
  const dir = path.posix.dirname(name)
  const base = path.posix.basename(name)
  // A leading dot is part of the name, not an extension (`.bashrc` → `.bashrc.sync-conflict-…`).
  const dot = base.lastIndexOf('.')
  const ext = dot > 0 ? base.slice(dot) : ''
  const stem = dot > 0 ? base.slice(0, dot) : base
  const copy = `${stem}.sync-conflict-${stamp(loserMtimeMs)}-${loserServer}${ext}`
  return dir === '.' ? copy : `${dir}/${copy}`
}

function stamp(ms: number): string {
  const d = new Date(ms)
  const two = (n: number): string => String(n).padStart(2, '0')
  return (
    `${d.getUTCFullYear()}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}-` +
    `${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}`
  )
}
