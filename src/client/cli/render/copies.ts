/**
 * How a listing row says what is true of its copies, in the CLI and in the menu alike: the
 * servers cell marks copies that differ ("A≠B": A's copy is not B's; "A,C≠B": A and C hold one
 * version, B another), a line under the row says which server holds which size and time, and a
 * symlink is named as one. Everything from the server is escaped (displayText).
 */
import { copyGroups, displayText, type FileCopy, type FileRow } from '../../../protocol/client.js'
import { clockTime, humanSize, plural } from './format.js'

/** The mark for copies that differ. */
export const DIFFERS = '≠'

/** A symlink's name as listed: links are never mirrored, and the listing says so. */
export function shownName(row: FileRow): string {
  const name = displayText(row.name)
  return row.kind === 'symlink' ? `${name} -> (symlink, not mirrored)` : name
}

/** The size cell: a symlink has none of its own. */
export function shownSize(row: FileRow): string {
  return row.kind === 'symlink' ? '-' : humanSize(row.size)
}

/** "A,B", or with copies that differ "A≠B" (servers grouped by the version they hold). */
export function serversCell(row: FileRow): string {
  if (!row.differs || !row.copies) return row.servers.map(displayText).join(',')
  return copyGroups(row.copies)
    .map((group) => group.map((copy) => displayText(copy.server)).join(','))
    .join(DIFFERS)
}

/** "≠ A: 12 B 14:00:03 · B: 30 B 14:05:10 (newest)", or undefined when the copies agree. */
export function copiesLine(row: FileRow, now = Date.now()): string | undefined {
  if (!row.differs || !row.copies) return undefined
  const files = row.copies.filter((copy) => !copy.symlink)
  const newest = Math.max(...files.map((copy) => copy.mtime))
  const several = new Set(files.map((copy) => copy.mtime)).size > 1
  const one = (copy: FileCopy): string => {
    const server = displayText(copy.server)
    if (copy.symlink) return `${server}: a symlink`
    const mark = several && copy.mtime === newest ? ' (newest)' : ''
    return `${server}: ${humanSize(copy.size)} ${clockTime(copy.mtime, now)}${mark}`
  }
  return `${DIFFERS} ${row.copies.map(one).join(' · ')}`
}

const WIDTH = 100 // a line under a row stays within 100 columns

/**
 * The table's row lines, each followed by `extra(row)` when it has one, indented under the name
 * column (past the index), cut to 100 columns, then painted (colour codes take no columns).
 */
export function underRow(
  rows: readonly FileRow[],
  lines: readonly string[],
  extra: (row: FileRow) => string | undefined,
  paint: (text: string) => string = (text) => text,
): string[] {
  const indent = ' '.repeat(Math.max(1, ...rows.map((row) => String(row.index).length)) + 2)
  return lines.flatMap((line, i) => {
    const more = extra(rows[i]!)
    return more === undefined ? [line] : [line, paint(cut(indent + more, WIDTH))]
  })
}

/** "74 files, 1.2 MiB", then symlinks and copies that differ when there are any. */
export function listingFooter(rows: readonly FileRow[]): string {
  const files = rows.filter((row) => row.kind !== 'symlink')
  const links = rows.length - files.length
  const differing = rows.filter((row) => row.differs).length
  const total = files.reduce((sum, row) => sum + row.size, 0)
  const parts = [`${plural(files.length, 'file')}, ${humanSize(total)}`]
  if (links > 0) parts.push(`${plural(links, 'symlink')} (not mirrored)`)
  if (differing > 0) parts.push(`${differing} with copies that differ (${DIFFERS})`)
  return parts.join(', ')
}

function cut(text: string, max: number): string {
  const chars = [...text]
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`
}
