// One table row per file of the listing: its index, name, size, time, the servers that hold it,
// its lock badges and its actions. Every action is a real button or link (reachable by Tab, run
// by Enter) named after the file, so a screen reader says "Delete reports/q1.txt".

import { fileUrl } from './api.js'
import { clientId } from './client-id.js'
import { fileTime, humanSize, isoTime, until } from './format.js'
import { icon } from './icons.js'

function el(tag, className, text) {
  const node = document.createElement(tag)
  if (className) node.className = className
  if (text !== undefined) node.textContent = text
  return node
}

/** An action's icon and word; the control's name says which file it acts on. */
function dress(node, action, label, name) {
  node.dataset.action = action
  node.setAttribute('aria-label', `${label} ${name}`)
  node.title = `${label} ${name}`
  node.append(icon(action), el('span', 'label', label))
  return node
}

function button(action, label, name, className = '') {
  const node = el('button', `button small action ${className}`.trim())
  node.type = 'button'
  return dress(node, action, label, name)
}

/** The name, its folders dimmed so the file's own name stands out. */
function nameCell(name) {
  const cell = el('td', 'name')
  const slash = name.lastIndexOf('/')
  if (slash >= 0) cell.append(el('span', 'folder', name.slice(0, slash + 1)))
  cell.append(el('span', 'base', name.slice(slash + 1)))
  cell.title = name
  return cell
}

function serversCell(servers, here) {
  const cell = el('td', 'servers')
  for (const server of servers ?? []) {
    const chip = el('span', server === here ? 'chip server here' : 'chip server', server)
    if (server === here) chip.title = 'this server'
    cell.append(chip)
  }
  return cell
}

/**
 * One badge per lock: owner@server, or yours@server when this page's client id owns it (the
 * header shows that id; the tooltip says it in full).
 */
function locksCell(locks) {
  const cell = el('td', 'locks')
  for (const lock of locks ?? []) {
    const yours = lock.owner === clientId()
    const badge = el('span', yours ? 'badge lock yours' : 'badge lock')
    const owner = yours ? el('strong', 'yours-tag', 'yours') : el('span', 'lock-owner', lock.owner)
    const who = el('span', 'lock-who')
    who.append(owner, `@${lock.server}`)
    badge.append(icon('lock'), who)
    if (lock.queued > 0) badge.append(el('span', 'queued', ` +${lock.queued} queued`))
    badge.title =
      `locked by ${lock.owner}${yours ? ' (you)' : ''} at ${lock.server} since ` +
      `${isoTime(lock.since)}, ${until(lock.expiresAt)}` +
      (lock.queued > 0 ? `; ${lock.queued} update(s) from peers wait for the unlock` : '')
    cell.append(badge)
  }
  return cell
}

function actionsCell(row) {
  const cell = el('td', 'actions')
  const download = dress(el('a', 'button small action'), 'download', 'Download', row.name)
  // A plain link has no headers: the client id goes in the query, so the server knows who asks.
  download.href = `${fileUrl(row.name)}?ClientId=${encodeURIComponent(clientId())}`
  download.setAttribute('download', row.name.slice(row.name.lastIndexOf('/') + 1))
  const mine = (row.locks ?? []).some((lock) => lock.owner === clientId())
  cell.append(
    download,
    button('view', 'View', row.name),
    button('rename', 'Rename', row.name),
    mine ? button('unlock', 'Unlock', row.name, 'held') : button('lock', 'Lock', row.name),
    button('delete', 'Delete', row.name, 'danger-text'),
  )
  return cell
}

/** The <tr> of one listing row; `here` is this server's name (its chip is marked). */
export function renderRow(row, here) {
  const tr = el('tr')
  tr.dataset.name = row.name
  if (row.locked) tr.classList.add('locked')
  const size = el('td', 'num size', humanSize(row.size))
  size.title = `${row.size} bytes`
  const time = el('td', 'time')
  const stamp = el('time', '', fileTime(row.mtime))
  stamp.dateTime = isoTime(row.mtime)
  stamp.title = isoTime(row.mtime)
  time.append(stamp)
  tr.append(
    el('td', 'num index', String(row.index)),
    nameCell(row.name),
    size,
    time,
    serversCell(row.servers, here),
    locksCell(row.locks),
    actionsCell(row),
  )
  return tr
}
