/**
 * The server's console: one line per admission, refusal, departure and client operation, for a
 * person watching the server. The only place in the server that prints routine output.
 *
 * Lines carry names from the disk and strings from clients and peers (client ids, server names,
 * their errors' messages): every line is escaped here, as it is printed (displayText), so that
 * none of them can drive the terminal or split a line, whoever built the message.
 */
import { displayText, type LogEntry } from '../protocol/index.js'

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
  #lines: string[] = []

  /** `out` receives a batch of whole lines (each ending in a newline). */
  constructor(
    private readonly serverName: string,
    private readonly out: (text: string) => void = (text) => process.stdout.write(text),
  ) {}

  info(message: string): void {
    this.#push(`${stamp()} ${displayText(`${this.serverName}  ${message}`)}`)
  }

  /** A failure with its stack: the message on the warning's line, the stack's frames below. */
  failed(what: string, err: unknown): void {
    const { head, frames } = splitStack(err)
    this.warn(`${what}: ${head}`)
    for (const frame of frames) this.#push(displayText(frame))
  }

  #push(line: string): void {
    // Lines of one turn of the event loop go out in one write (a burst of small uploads would
    // otherwise cost a synchronous write per file).
    if (this.#lines.length === 0) setImmediate(() => this.flush())
    this.#lines.push(`${line}\n`)
  }

  flush(): void {
    if (this.#lines.length === 0) return
    const text = this.#lines.join('')
    this.#lines = []
    this.out(text)
  }

  warn(message: string): void {
    this.info(`⚠ ${message}`)
  }

  admitted(session: SessionView, count: number, max: number): void {
    this.info(
      `● ${session.clientId} connected from ${session.remoteAddress} (${count}/${max} clients)`,
    )
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
    const size =
      entry.size !== null && entry.size !== undefined ? ` (${formatBytes(entry.size)})` : ''
    const detail = entry.detail ? ` — ${entry.detail}` : ''
    this.info(`${entry.client ?? '?'} ${verb} ${target}${size}${detail}`)
  }
}

/** A sync action or peer event, as the sync worker reports it. */
export interface SyncLine {
  op: string
  name: string | null
  to?: string | null | undefined
  size?: number | null | undefined
  peer: string
  detail?: string | undefined
}

/** `⇣ pulled reports/q1.txt from B (12.0 kB)` and friends. */
export function syncLine(e: SyncLine): string {
  const size = e.size !== null && e.size !== undefined ? ` (${formatBytes(e.size)})` : ''
  switch (e.op) {
    case 'sync-pull':
      return `⇣ pulled ${e.name} from ${e.peer}${size}`
    case 'sync-delete':
      return `✗ deleted ${e.name}, as on ${e.peer}`
    case 'sync-rename':
      return `→ renamed ${e.name} → ${e.to}, as on ${e.peer}`
    case 'sync-conflict':
      return `⚠ conflict on ${e.name} with ${e.peer}: the other version is kept as ${e.to}${e.detail ? ` (${e.detail})` : ''}`
    case 'sync-blocked':
      return `⚠ set aside ${e.name} from ${e.peer}: ${e.detail ?? 'cannot be applied here yet'}; the rest goes on, and it is tried again`
    case 'sync-cleared':
      return `✓ ${e.name} from ${e.peer} is no longer set aside${e.detail ? ` (${e.detail})` : ''}`
    case 'peer-up':
      return `⇄ peer ${e.peer} up`
    case 'peer-down':
      return `⇹ peer ${e.peer} down${e.detail ? `: ${e.detail}` : ''}`
    case 'clock-skew': {
      const ms = Number(e.detail)
      const side = ms > 0 ? 'ahead of' : 'behind'
      return `⚠ the clock of ${e.peer} is ${(Math.abs(ms) / 1000).toFixed(1)} s ${side} ours: "newest wins" depends on clocks`
    }
    default:
      return `${e.op} ${e.name ?? ''} (${e.peer})`
  }
}

/** A user-lock event, as the sync worker reports it. */
export interface LockLine {
  op: string
  name: string
  owner: string
  peer?: string | undefined
  queued: number
  detail?: string | undefined
}

/** `🔒 plan.txt locked by alice; 3 updates from B queued` and friends. */
export function lockLine(e: LockLine): string {
  const updates = (n: number): string => `${n} update${n === 1 ? '' : 's'}`
  switch (e.op) {
    case 'lock':
      return `🔒 ${e.name} locked by ${e.owner}${e.detail ? ` ${e.detail}` : ''}${e.queued > 0 ? `; ${updates(e.queued)} queued` : ''}`
    case 'lock-queue':
      return `🔒 ${e.name} locked by ${e.owner}; ${updates(e.queued)} from ${e.peer ?? '?'} queued${e.detail ? ` (last: ${e.detail})` : ''}`
    case 'lock-apply':
      return `⇣ applied a queued update of ${e.name} from ${e.peer ?? '?'} (${e.detail ?? 'done'}; ${e.queued} left)`
    case 'unlock':
      return `🔓 ${e.name} unlocked (was ${e.owner}'s)${e.detail ? `: ${e.detail}` : ''}`
    default:
      return `${e.op} ${e.name} (${e.owner})`
  }
}

/**
 * An error as lines for a log: its name and message (escaped: a message may quote a file name),
 * then the frames of its stack, also escaped. For failures that need their stack to be understood.
 */
export function describeFailure(err: unknown): string[] {
  const { head, frames } = splitStack(err)
  return [head, ...frames].map(displayText)
}

/** "Name: message" and the stack's frames; a message that spans lines stays whole in `head`. */
function splitStack(err: unknown): { head: string; frames: string[] } {
  if (!(err instanceof Error)) return { head: String(err), frames: [] }
  const head = `${err.name}: ${err.message}`
  const stack = err.stack ?? ''
  const frames = stack.startsWith(`${head}\n`) ? stack.slice(head.length + 1).split('\n') : []
  return { head, frames }
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
