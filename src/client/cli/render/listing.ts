/**
 * The human form of `ls`: index, name, size, modified time, and server and lock columns when they
 * say something. The lock column names each lock's owner and server ("alice@A (3 queued)").
 * Names and server names are shown escaped (displayText): one row per file, whatever its name,
 * plus, under a file whose copies differ ("A≠B"), one line saying which server holds what.
 */
import type { FileRow } from '../../../protocol/client.js'
import { copiesLine, listingFooter, serversCell, shownName, shownSize, underRow } from './copies.js'
import { localTime } from './format.js'
import { describeLocks } from './locks.js'
import { renderTable, type Column } from './table.js'

export interface ListingOptions {
  /** Mark locks with 🔒 (a person at a terminal); plain words otherwise. */
  decorate?: boolean
}

export function renderListing(rows: readonly FileRow[], options: ListingOptions = {}): string {
  if (rows.length === 0) return 'no files'
  const showLocks = rows.some((row) => row.locked || row.locks.length > 0)
  const serverSets = new Set(rows.map((row) => row.servers.join(',')))
  // With peers, which servers hold each file is the point of the composite listing.
  const showServers = serverSets.size > 1 || rows.some((row) => row.servers.length > 1)
  const columns: Column[] = [
    { header: '#', align: 'right' },
    { header: 'NAME' },
    { header: 'SIZE', align: 'right' },
    { header: 'MODIFIED' },
  ]
  if (showServers) columns.push({ header: 'SERVERS' })
  if (showLocks) columns.push({ header: 'LOCK' })
  const cells = rows.map((row) => {
    const line = [String(row.index), shownName(row), shownSize(row), localTime(row.mtime)]
    if (showServers) line.push(serversCell(row))
    if (showLocks) line.push(describeLocks(row.locks, row.locked, options.decorate === true))
    return line
  })
  const [header = '', ...lines] = renderTable(columns, cells)
  return [header, ...underRow(rows, lines, copiesLine), listingFooter(rows)].join('\n')
}
