/**
 * The server's console: one line per admission, refusal, departure and client operation, for a
 * person watching the server. The only place in the server that prints routine output.
 */
import type { LogEntry } from '../protocol/index.js'

export interface SessionView {
  sessionId: string
  clientId: string
  remoteAddress: string
}

const VERBS: Record<string, string> = {
  upload: '⇡ uploaded',
  create: '+ created',
  write: '✎ wrote',
  append: '» appended to',
  rename: '→ renamed',
  delete: '✗ deleted',
  download: '⇣ downloaded',
}

export class ServerConsole {
  constructor(
    private readonly serverName: string,
    private readonly out: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  ) {}

  info(message: string): void {
    this.out(`${stamp()} ${this.serverName}  ${message}`)
  }

  warn(message: string): void {
    this.info(`⚠ ${message}`)
  }

  admitted(session: SessionView, count: number, max: number): void {
    this.info(`● ${session.clientId} connected from ${session.remoteAddress} (${count}/${max} clients)`)
  }

  refused(address: string, count: number, max: number): void {
    this.info(`○ refused ${address}: ${count}/${max} clients already (ERR_BUSY)`)
  }

  left(session: SessionView, count: number, max: number): void {
    this.info(`○ ${session.clientId} left (${count}/${max} clients)`)
  }

  sessionClosed(session: SessionView, reason: string): void {
    this.info(`○ closed ${session.clientId}@${session.remoteAddress}: ${reason}`)
  }

  operation(entry: Pick<LogEntry, 'op' | 'name' | 'to' | 'client' | 'size' | 'detail'>): void {
    const verb = VERBS[entry.op] ?? entry.op
    const target = entry.to ? `${entry.name} → ${entry.to}` : (entry.name ?? '')
    const size = entry.size !== null && entry.size !== undefined ? ` (${formatBytes(entry.size)})` : ''
    const detail = entry.detail ? ` — ${entry.detail}` : ''
    this.info(`${entry.client ?? '?'} ${verb} ${target}${size}${detail}`)
  }
}

function stamp(): string {
  return new Date().toTimeString().slice(0, 8)
}

export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`
  const units = ['kB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = -1
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit++
  }
  return `${value.toFixed(1)} ${units[unit]}`
}
