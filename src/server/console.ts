/**
 * The server's console: one line per admission, refusal, departure and client operation, for a
 * person watching the server. The only place in the server that prints routine output.
 *
 * Lines carry names from the disk and strings from clients and peers (client ids, server names,
 * their errors' messages): every line is escaped here, as it is printed (displayText), so that
 * none of them can drive the terminal or split a line, whoever built the message.
 *
 * Every line fits WIDTH columns: the names in it (marked with `named`) are shortened in the middle,
 * longest first, so that the code, the verb and the numbers stay; a message too long for that (a
 * warning that explains) goes on over indented lines rather than being cut, its names whole.
 */
import { displayText } from '../protocol/display-text.js'
import type { LocalChangeKind, LogEntry } from '../protocol/messages.js'
import { humanShare, humanSize } from '../protocol/units.js'

export interface SessionView {
  sessionId: string
  clientId: string
  remoteAddress: string
}

/** Console lines fit this many terminal columns. */
export const WIDTH = 100

/** A name shortened to the middle keeps at least this many characters (and the ellipsis). */
const MIN_NAME = 12

const VERBS: Record<string, string> = {
  upload: '⇡ uploaded',
  create: '+ created',
  write: '✎ wrote',
  append: '» appended to',
  rename: '→ renamed',
  delete: '✗ deleted',
  download: '⇣ downloaded',
  read: '⇣ read',
}

// Names are marked by two private-use characters, so that fitting the line knows what it may
// shorten; a name holding one of them has it escaped first (it is shown as an escape anyway).
const OPEN = '\ue000'
const CLOSE = '\ue001'

/** Mark text that may be shortened in the middle to fit the line (a file name, a client id). */
export function named(text: string | null | undefined): string {
  const plain = (text ?? '').replace(/[\ue000\ue001]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`)
  return `${OPEN}${plain}${CLOSE}`
}

/** How long a console line may wait for others to go out with it, and how many may wait. */
const FLUSH_MS = 50
const FLUSH_LINES = 512

export class ServerConsole {
  #lines: string[] = []
  #timer: NodeJS.Timeout | undefined

  /** `out` receives a batch of whole lines (each ending in a newline). */
  constructor(
    private readonly serverName: string,
    private readonly out: (text: string) => void = (text) => process.stdout.write(text),
  ) {}

  info(message: string): void {
    for (const line of fitLine(`${stamp()} ${this.serverName}  `, message)) this.#push(line)
  }

  /**
   * A failure with its stack: the message on the warning's line, the stack's frames below, each
   * whole on its own line however long its path (a frame is copied, searched for, never read as
   * prose: folding it would break both).
   */
  failed(what: string, err: unknown): void {
    const { head, frames } = splitStack(err)
    this.warn(`${what}: ${head}`)
    for (const frame of frames) this.#push(frame)
  }

  #push(line: string): void {
    // Lines of up to FLUSH_MS go out in one write: a burst of small uploads would otherwise cost
    // a synchronous write to stdout (a pipe, under a supervisor) per file, or per turn of the
    // event loop, which is about the same when each file ends in a turn of its own.
    if (this.#lines.length === 0) this.#timer = setTimeout(this.#flush, FLUSH_MS).unref()
    this.#lines.push(`${line}\n`)
    if (this.#lines.length >= FLUSH_LINES) this.flush()
  }

  readonly #flush = (): void => this.flush()

  flush(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
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
      `● ${named(session.clientId)} connected from ${session.remoteAddress} (${count}/${max} clients)`,
    )
  }

  refused(address: string, count: number, max: number): void {
    this.info(`○ refused ${address}: ${count}/${max} clients already (ERR_BUSY)`)
  }

  left(session: SessionView, count: number, max: number): void {
    this.info(`○ ${named(session.clientId)} left (${count}/${max} clients)`)
  }

  sessionClosed(session: SessionView, reason: string): void {
    this.info(`○ closed ${named(session.clientId)}@${session.remoteAddress}: ${reason}`)
  }

  operation(
    entry: Pick<LogEntry, 'op' | 'name' | 'to' | 'client' | 'size' | 'detail' | 'bytes'>,
  ): void {
    this.info(operationLine(entry))
  }
}

/** A client's operation: `alice ⇡ uploaded notes.txt (1.2 KiB)`, `alice ⚠ stopped …`. */
export function operationLine(
  entry: Pick<LogEntry, 'op' | 'name' | 'to' | 'client' | 'size' | 'detail' | 'bytes'>,
): string {
  const who = named(entry.client ?? '?')
  const target = entry.to ? `${named(entry.name)} → ${named(entry.to)}` : named(entry.name)
  const detail = entry.detail ? ` — ${entry.detail}` : ''
  const moved = entry.bytes ?? 0
  switch (entry.op) {
    case 'download-interrupted':
      return `⚠ ${who} stopped downloading ${target} at ${humanShare(moved, entry.size)}${detail}`
    case 'upload-interrupted':
      return `⚠ ${who} stopped uploading ${target} at ${humanShare(moved, entry.size)}; nothing stored${detail}`
  }
  const verb = VERBS[entry.op] ?? entry.op
  const size = entry.size !== null && entry.size !== undefined ? ` (${humanSize(entry.size)})` : ''
  return `${who} ${verb} ${target}${size}${detail}`
}

/** A change another program made in the served folder, as the scanner found it. */
export interface LocalChangeLine {
  what: LocalChangeKind
  name: string
  to?: string | null | undefined
  bytes?: number | null | undefined
}

/** `◆ on disk here: modified notes.txt (1.2 KiB)`. */
export function localChangeLine(e: LocalChangeLine): string {
  const size = e.bytes !== null && e.bytes !== undefined ? ` (${humanSize(e.bytes)})` : ''
  const target = e.to ? `${named(e.name)} → ${named(e.to)}` : named(e.name)
  return `◆ on disk here: ${e.what} ${target}${size}`
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

/** `⇣ pulled reports/q1.txt from B (12.0 KiB)` and friends. */
export function syncLine(e: SyncLine): string {
  const size = e.size !== null && e.size !== undefined ? ` (${humanSize(e.size)})` : ''
  const name = named(e.name)
  const peer = named(e.peer)
  switch (e.op) {
    case 'sync-pull':
      return `⇣ pulled ${name} from ${peer}${size}`
    case 'sync-delete':
      return `✗ deleted ${name}, as on ${peer}`
    case 'sync-rename':
      return `→ renamed ${name} → ${named(e.to)}, as on ${peer}`
    case 'sync-conflict':
      return `⚠ conflict on ${name} with ${peer}: the other version is kept as ${named(e.to)}${e.detail ? ` (${e.detail})` : ''}`
    case 'sync-blocked':
      return `⚠ set aside ${name} from ${peer}: ${e.detail ?? 'cannot be applied here yet'}; the rest goes on, and it is tried again`
    case 'sync-cleared':
      return `✓ ${name} from ${peer} is no longer set aside${e.detail ? ` (${e.detail})` : ''}`
    case 'replica-copied':
      return `⇣ copied ${name} from ${peer}${size}: this server is now one of its holders`
    case 'replica-dropped':
      return `✗ dropped this server's copy of ${name}: its holders have it (--replicas)`
    case 'member-joined':
      return `⇄ member ${peer} joined (up)`
    case 'member-left':
      return `⇹ member ${peer} left (down)${e.detail ? `: ${e.detail}` : ''}`
    case 'member-refused':
      return `⚠ member ${peer} refused${e.detail ? `: ${e.detail}` : ''}`
    case 'clock-skew':
      return `⚠ ${clockSkewText(peer, Number(e.detail))}: "newest wins" depends on clocks`
    default:
      return `${e.op} ${name} (${peer})`
  }
}

/** "the clock of B is 3.1 s ahead of ours" (for the console and the change log). */
export function clockSkewText(peer: string, ms: number): string {
  const side = ms > 0 ? 'ahead of' : 'behind'
  return `the clock of ${peer} is ${(Math.abs(ms) / 1000).toFixed(1)} s ${side} ours`
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

/** `🔒 plan.txt locked by alice; 3 updates queued` and friends. */
export function lockLine(e: LockLine): string {
  const updates = (n: number): string => `${n} update${n === 1 ? '' : 's'}`
  const name = named(e.name)
  const owner = named(e.owner)
  const peer = named(e.peer ?? '?')
  switch (e.op) {
    case 'lock':
      return `🔒 ${name} locked by ${owner}${e.detail ? ` ${e.detail}` : ''}${e.queued > 0 ? `; ${updates(e.queued)} queued` : ''}`
    case 'lock-queue':
      return `🔒 an update of ${name} from ${peer}, queued while ${owner} holds the lock (${e.queued} waiting)${e.detail ? `: ${e.detail}` : ''}`
    case 'lock-apply':
      return `⇣ applied a queued update of ${name} from ${peer} (${e.detail ?? 'done'}; ${e.queued} left)`
    case 'unlock':
      return `🔓 ${name} unlocked (was ${owner}'s)${e.detail ? `: ${e.detail}` : ''}`
    default:
      return `${e.op} ${name} (${owner})`
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

/**
 * `prefix` + `message` as lines of at most WIDTH columns, escaped: marked names shortened in the
 * middle (longest first, to MIN_NAME at the least) when that makes the line fit, else the rest
 * carried over to lines indented under the message, names whole.
 */
export function fitLine(prefix: string, message: string, width = WIDTH): string[] {
  const parts = splitMarked(message).map((p) => ({ ...p, text: displayText(p.text) }))
  const head = displayText(prefix)
  const total = (): number => columns(head) + parts.reduce((n, p) => n + columns(p.text), 0)
  // Shortening names helps only when it makes the line fit; a message too long for one line
  // anyway goes on over the next lines with its names whole.
  const least =
    columns(head) +
    parts.reduce((n, p) => n + (p.name ? Math.min(columns(p.text), MIN_NAME) : columns(p.text)), 0)
  // The longest name gives way first, down to the next longest: names end up about even.
  while (least <= width && total() > width) {
    const [longest, next] = parts
      .filter((p) => p.name && [...p.text].length > MIN_NAME)
      .sort((a, b) => columns(b.text) - columns(a.text))
    if (!longest) break
    const length = [...longest.text].length
    const over = total() - width
    const step = Math.max(1, Math.min(over, next ? length - [...next.text].length : over))
    longest.text = middle(longest.text, Math.max(MIN_NAME, length - step))
  }
  return wrap(head, parts.map((p) => p.text).join(''), width)
}

function splitMarked(message: string): { text: string; name: boolean }[] {
  const parts: { text: string; name: boolean }[] = []
  const pattern = /\ue000([^\ue001]*)\ue001/g
  let at = 0
  for (let m = pattern.exec(message); m; m = pattern.exec(message)) {
    if (m.index > at) parts.push({ text: message.slice(at, m.index), name: false })
    parts.push({ text: m[1]!, name: true })
    at = m.index + m[0].length
  }
  if (at < message.length) parts.push({ text: message.slice(at), name: false })
  return parts
}

/** `text` cut to `keep` characters, the cut in its middle: "reports/2026/…/summary.txt". */
function middle(text: string, keep: number): string {
  const chars = [...text]
  if (chars.length <= keep) return text
  const front = Math.ceil((keep - 1) / 2)
  const back = keep - 1 - front
  return `${chars.slice(0, front).join('')}…${chars.slice(chars.length - back).join('')}`
}

/** Lines of at most `width` columns: breaks at spaces when it can, continuation lines indented. */
function wrap(head: string, body: string, width: number): string[] {
  const indent = ' '.repeat(Math.min(columns(head), 20))
  const lines: string[] = []
  let line = head
  let rest = body
  for (;;) {
    if (columns(line) + columns(rest) <= width) return [...lines, line + rest]
    const room = width - columns(line)
    const chars = [...rest]
    let cut = 0
    let used = 0
    let space = -1
    for (; cut < chars.length; cut++) {
      const w = charColumns(chars[cut]!)
      if (used + w > room) break
      used += w
      if (chars[cut] === ' ') space = cut
    }
    const at = space > 0 ? space : Math.max(1, cut)
    lines.push((line + chars.slice(0, at).join('')).trimEnd())
    rest = chars.slice(at).join('').replace(/^ +/, '')
    line = indent
  }
}

/** Terminal columns of a string: wide (CJK, most emoji) characters take two, combining marks none. */
export function columns(text: string): number {
  let n = 0
  for (const char of text) n += charColumns(char)
  return n
}

function charColumns(char: string): number {
  const code = char.codePointAt(0)!
  if (/\p{Mn}|\p{Me}|\u200d|\u200c/u.test(char)) return 0
  if (
    code >= 0x1f000 ||
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0xa4cf) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6)
  )
    return 2
  return 1
}
