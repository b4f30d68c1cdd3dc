/** The human form of `ls`: index, name, size, modified time, and lock and server columns when they say something. */
import type { FileRow } from '../../../protocol/index.js'
import { humanSize, localTime, plural } from './format.js'
import { renderTable, type Column } from './table.js'

export function renderListing(rows: readonly FileRow[]): string {
  if (rows.length === 0) return 'no files'
  const showLocks = rows.some((row) => row.locked)
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
    const line = [String(row.index), row.name, humanSize(row.size), localTime(row.mtime)]
    if (showServers) line.push(row.servers.join(','))
    if (showLocks) line.push(row.locked ? 'locked' : '')
    return line
  })
  const total = rows.reduce((sum, row) => sum + row.size, 0)
  return [
    ...renderTable(columns, cells),
    `${plural(rows.length, 'file')}, ${humanSize(total)}`,
  ].join('\n')
}
