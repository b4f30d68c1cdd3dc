/** The human form of change-log entries: one line each, local time first, every string escaped. */
import { displayText, type LogEntry } from '../../../protocol/index.js'
import { humanSize, localTime } from './format.js'

export function renderLogEntry(entry: LogEntry): string {
  const target = entry.to ? `${entry.name ?? ''} → ${entry.to}` : (entry.name ?? '')
  const parts = [localTime(entry.time, true), displayText(entry.server), displayText(entry.op)]
  parts.push(displayText(target))
  if (entry.size !== null && entry.size !== undefined) parts.push(humanSize(entry.size))
  if (entry.client) parts.push(`by ${displayText(entry.client)}`)
  if (entry.detail) parts.push(`(${displayText(entry.detail)})`)
  return parts.filter((part) => part !== '').join('  ')
}

export function renderLog(entries: readonly LogEntry[]): string {
  return entries.length === 0 ? 'the log is empty' : entries.map(renderLogEntry).join('\n')
}
