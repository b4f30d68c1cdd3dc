/** The human form of change-log entries: one line each, local time first, every string escaped. */
import { displayText, type LogEntry } from '../../../protocol/client.js'
import { humanShare, humanSize, localTime } from './format.js'

/**
 * What an entry says of its bytes, in words: `1.2 KiB`; for a transfer that broke off,
 * `stopped at 61 % (6.1 MiB of 10.0 MiB)`; for a change on the server's disk, `modified, 1.2 KiB`.
 */
export function amountOf(entry: LogEntry): string {
  if (entry.op === 'download-interrupted' || entry.op === 'upload-interrupted')
    return `stopped at ${humanShare(entry.bytes ?? 0, entry.size)}`
  if (entry.op === 'local-change') {
    const what = entry.what ?? 'changed'
    return entry.bytes === undefined ? what : `${what}, ${humanSize(entry.bytes)}`
  }
  return entry.size !== null && entry.size !== undefined ? humanSize(entry.size) : ''
}

export function renderLogEntry(entry: LogEntry): string {
  const target = entry.to ? `${entry.name ?? ''} → ${entry.to}` : (entry.name ?? '')
  const parts = [localTime(entry.time, true), displayText(entry.server), displayText(entry.op)]
  parts.push(displayText(target))
  parts.push(amountOf(entry))
  if (entry.client) parts.push(`by ${displayText(entry.client)}`)
  if (entry.detail) parts.push(detailOf(entry.detail))
  return parts.filter((part) => part !== '').join('  ')
}

/** A detail as shown: where a change came from reads as is ("from B …"), the rest in brackets. */
export function detailOf(detail: string): string {
  const shown = displayText(detail)
  return detail.startsWith('from ') ? shown : `(${shown})`
}

export function renderLog(entries: readonly LogEntry[]): string {
  return entries.length === 0 ? 'the log is empty' : entries.map(renderLogEntry).join('\n')
}
