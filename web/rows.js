// One table row per file of the listing: its index, name, size, time, the servers that hold it
// (marked "≠ differs" when their copies are not the same version, which server holds what in the
// tooltip), its lock badges and its actions. Every action is a real button or link (reachable by
// Tab, run by Enter) named after the file, so a screen reader says "Delete reports/q1.txt".

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

function serversCell(row, here) {
  const cell = el('td', 'servers')
  for (const server of row.servers ?? []) {
    const chip = el('span', server === here ? 'chip server here' : 'chip server', server)
    if (server === here) chip.title = 'this server'
    cell.append(chip)
  }
  if (row.differs) cell.append(differsBadge(row.copies ?? []))
  return cell
}

/** What one server holds, as the tooltip says it. */
function copyText(copy) {
  if (copy.symlink) return `${copy.server}: a symlink (not mirrored)`
  const hash = copy.sha256 ? `, sha256 ${copy.sha256.slice(0, 12)}…` : ''
  return `${copy.server}: ${humanSize(copy.size)} (${copy.size} bytes), modified ${isoTime(copy.mtime)}${hash}`
}

/**
 * The copies of this file are not the same version (a lock holding one back, a transfer not done
 * yet): a visible mark, and which server holds what in its tooltip and accessible name.
 */
function differsBadge(copies) {
  const badge = el('span', 'badge differs', '≠ differs')
  const text = `The copies differ. ${copies.map(copyText).join('; ')}`
  badge.title = text
  badge.setAttribute('aria-label', text)
  badge.setAttribute('role', 'note')
  return badge
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
  const name = nameCell(row.name)
  if (row.kind === 'symlink') {
    // A symlink is never mirrored: the row says so instead of passing for a file.
    tr.classList.add('symlink')
    const tag = el('span', 'badge symlink', '→ symlink, not mirrored')
    tag.title = `${row.name} is a symbolic link on this server; links are not mirrored`
    name.append(' ', tag)
    size.textContent = '-'
    size.title = 'a symlink'
  }
  if (row.differs) tr.classList.add('differs')
  tr.append(
    el('td', 'num index', String(row.index)),
    name,
    size,
    time,
    serversCell(row, here),
    locksCell(row.locks),
    actionsCell(row),
  )
  return tr
}
