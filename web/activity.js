// The activity panel: this server's change log as it happens, newest first — uploads, writes,
// renames and deletes by clients here, what was pulled from peers, conflicts, locks, peers going
// up and down (members joining and leaving). An event's op is shown as the server names it; only its colour is guessed from it.

import { clockTime, humanSize, isoTime } from './format.js'

/** The panel keeps this many events. */
const KEEP = 200

const seen = new Set()
let newest = null

function el(tag, className, text) {
  const node = document.createElement(tag)
  if (className) node.className = className
  if (text !== undefined) node.textContent = text
  return node
}

/** A colour family for an op, by the words in it; anything unknown is plain. */
function family(op) {
  if (/conflict|blocked|refused|skew/.test(op)) return 'warn'
  if (/delete/.test(op)) return 'delete'
  if (/rename/.test(op)) return 'rename'
  if (/member-left/.test(op)) return 'down'
  if (/member-joined|cleared/.test(op)) return 'up'
  if (/unlock|lock/.test(op)) return 'lock'
  if (/pull|sync/.test(op)) return 'pull'
  if (/upload|create|write|append|put/.test(op)) return 'write'
  return 'other'
}

function entryLine(entry) {
  const li = el('li', 'event')
  li.dataset.op = String(entry.op)
  li.dataset.family = family(String(entry.op))
  const time = el('time', 'event-time', clockTime(entry.time))
  time.dateTime = isoTime(entry.time)
  time.title = isoTime(entry.time)
  const head = el('div', 'event-head')
  head.append(time, el('span', 'chip server', String(entry.server ?? '?')))
  head.append(el('span', 'op', String(entry.op)))
  const body = el('div', 'event-body')
  if (entry.name) body.append(el('span', 'event-name', entry.name))
  if (entry.to) body.append(el('span', 'arrow', ' → '), el('span', 'event-name', entry.to))
  const meta = []
  if (entry.client) meta.push(`by ${entry.client}`)
  if (typeof entry.size === 'number') meta.push(humanSize(entry.size))
  if (entry.detail) meta.push(entry.detail)
  li.append(head, body)
  if (meta.length > 0) li.append(el('div', 'event-meta', meta.join(' · ')))
  return li
}

/** Add events (from the stream or the log), each once, keeping the newest KEEP in order. */
export function addEvents(entries) {
  const list = document.getElementById('activity')
  const fresh = entries.filter((entry) => typeof entry.seq === 'number' && !seen.has(entry.seq))
  if (fresh.length === 0) return
  for (const entry of fresh) {
    seen.add(entry.seq)
    if (newest === null || entry.seq > newest) newest = entry.seq
  }
  // Newest first: the lines stay ordered by seq, wherever an event lands.
  for (const entry of fresh.sort((a, b) => a.seq - b.seq)) {
    const line = entryLine(entry)
    line.dataset.seq = String(entry.seq)
    const after = Array.from(list.children).find((li) => Number(li.dataset.seq) < entry.seq)
    list.insertBefore(line, after ?? null)
  }
  while (list.children.length > KEEP) {
    seen.delete(Number(list.lastElementChild.dataset.seq))
    list.lastElementChild.remove()
  }
  document.getElementById('activity-empty')?.remove()
}

/** The newest event shown, to resume the stream after it. */
export function lastSeq() {
  return newest
}

/** Say that nothing happened yet (until the first event). */
export function setUpActivity() {
  const list = document.getElementById('activity')
  if (list.children.length === 0) {
    const empty = el('li', 'activity-empty', 'Nothing yet: changes on any server show here.')
    empty.id = 'activity-empty'
    list.append(empty)
  }
}
