/**
 * The menu's tables: the composite listing with every column (index, name, size, modified,
 * servers, lock: "🔒 alice@A (3 queued)"; copies that differ marked "A≠B", with a line saying who
 * holds what), and change-log entries in aligned columns, for the history and for live lines.
 * Every string from the server is shown escaped (displayText).
 */
import { displayText, type FileRow, type LogEntry } from '../../protocol/client.js'
import {
  copiesLine,
  listingFooter,
  serversCell,
  shownName,
  shownSize,
  underRow,
} from '../cli/render/copies.js'
import { localTime } from '../cli/render/format.js'
import { describeLocks } from '../cli/render/locks.js'
import { amountOf, detailOf } from '../cli/render/log.js'
import { renderTable, type Column } from '../cli/render/table.js'
import { bold, dim, fit, yellow } from './ui.js'

const MAX_NAME = 48 // keeps a row within 100 columns

const LISTING_COLUMNS: Column[] = [
  { header: '#', align: 'right' },
  { header: 'NAME' },
  { header: 'SIZE', align: 'right' },
  { header: 'MODIFIED' },
  { header: 'SERVERS' },
  { header: 'LOCK' },
]

/** The listing's lines: the header, a line per file (and one under it when its copies differ). */
export function listingTable(rows: readonly FileRow[]): string {
  const cells = rows.map((row) => [
    String(row.index),
    fit(shownName(row), MAX_NAME),
    shownSize(row),
    localTime(row.mtime),
    serversCell(row),
    describeLocks(row.locks, row.locked, true) || '-',
  ])
  const [header = '', ...lines] = renderTable(LISTING_COLUMNS, cells)
  const under = underRow(rows, lines, (row) => copiesLine(row), yellow)
  return [bold(header), ...under, dim(listingFooter(rows))].join('\n')
}

const OP_WIDTH = 13 // 'sync-conflict'; the longer ones ('download-interrupted') push the line on

const MAX_TARGET = 48

/** What a change is about, as shown: the file, or 'old → new' for a rename. */
export function targetOf(entry: LogEntry): string {
  return displayText(entry.to ? `${entry.name ?? ''} → ${entry.to}` : (entry.name ?? ''))
}

/**
 * One change as a line: time, server, operation, file (padded to `targetWidth` so that the
 * details line up), size, client.
 */
export function logLine(entry: LogEntry, targetWidth = 0): string {
  const width = Math.min(targetWidth, MAX_TARGET)
  const target = fit(targetOf(entry), MAX_TARGET).padEnd(width)
  const size = amountOf(entry).padStart(9)
  const client = entry.client ? `by ${displayText(entry.client)}` : ''
  const who = [client, entry.detail ? detailOf(entry.detail) : '']
  const extra = `${size}  ${who.filter((part) => part !== '').join('  ')}`.trimEnd()
  const when = dim(localTime(entry.time, true))
  const op = bold(displayText(entry.op).padEnd(OP_WIDTH))
  const head = `${when}  ${displayText(entry.server)}  ${op}  ${target}`
  return extra.trim() === '' ? head.trimEnd() : `${head}  ${dim(extra)}`
}
