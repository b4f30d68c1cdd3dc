// The composite listing: every file any server of the cluster holds, fetched from
// GET /api/v1/files, sorted by the column the person chose, filtered by the text box, and shown a
// page of PAGE_SIZE rows at a time. A refresh asked for while one is in flight runs once after it.

import { api } from './api.js'
import { humanSize } from './format.js'
import { renderRow } from './rows.js'
import { showError } from './status.js'

export const PAGE_SIZE = 200
/** Change events arrive in bursts (a folder upload): one refetch per burst. */
const DEBOUNCE_MS = 100
/**
 * Fetched this often even without change events: two kinds of change reach the rows without
 * being in this server's change log — a lock taken or ended at a peer, and a file another
 * program changed in this server's own directory (its peers log the pull; it logs nothing).
 */
const REFRESH_MS = 10_000

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' })

const state = {
  rows: [],
  loaded: false,
  sortKey: 'index',
  sortDir: 'ascending',
  filter: '',
  page: 0,
  /** This server's name (its chip in "Held by" is marked). */
  here: '',
}

const compare = {
  index: (a, b) => a.index - b.index,
  name: (a, b) => collator.compare(a.name, b.name),
  size: (a, b) => a.size - b.size,
  mtime: (a, b) => a.mtime - b.mtime,
  servers: (a, b) => collator.compare(a.servers.join(' '), b.servers.join(' ')),
  locks: (a, b) =>
    a.locks.length - b.locks.length ||
    collator.compare(a.locks.map(lockText).join(' '), b.locks.map(lockText).join(' ')),
}

function lockText(lock) {
  return `${lock.owner}@${lock.server}`
}

/** The rows the filter lets through, in the chosen order. */
function visibleRows() {
  const needle = state.filter.trim().toLowerCase()
  const rows = needle
    ? state.rows.filter(
        (row) =>
          row.name.toLowerCase().includes(needle) ||
          row.servers.some((server) => server.toLowerCase() === needle) ||
          row.locks.some((lock) => lockText(lock).toLowerCase().includes(needle)),
      )
    : state.rows.slice()
  const order = compare[state.sortKey] ?? compare.index
  const sign = state.sortDir === 'ascending' ? 1 : -1
  // Ties keep the listing's order (by name).
  rows.sort((a, b) => sign * order(a, b) || compare.name(a, b))
  return rows
}

/** Remember which row action has focus, to give it back after the rows are rebuilt. */
function focusedAction(tbody) {
  const active = document.activeElement
  if (!(active instanceof HTMLElement) || !tbody.contains(active)) return null
  const tr = active.closest('tr')
  return tr
    ? { name: tr.dataset.name, action: active.dataset.action, at: tr.sectionRowIndex }
    : null
}

/** The same action of the same file; or, its row gone (renamed, deleted), of the row in its place. */
function restoreFocus(tbody, focus) {
  if (!focus) return
  const rows = Array.from(tbody.rows)
  const tr =
    rows.find((row) => row.dataset.name === focus.name) ?? rows[Math.min(focus.at, rows.length - 1)]
  if (!tr) return document.getElementById('files-heading').focus()
  const target =
    tr.querySelector(`[data-action="${focus.action}"]`) ??
    // lock became unlock (or back): stay on that button
    tr.querySelector('[data-action="lock"], [data-action="unlock"]')
  target?.focus()
}

export function render() {
  const tbody = document.getElementById('rows')
  const rows = visibleRows()
  const pages = Math.max(1, Math.ceil(rows.length / PAGE_SIZE))
  state.page = Math.min(state.page, pages - 1)
  const first = state.page * PAGE_SIZE
  const shown = rows.slice(first, first + PAGE_SIZE)
  const focus = focusedAction(tbody)
  tbody.replaceChildren(...shown.map((row) => renderRow(row, state.here)))
  restoreFocus(tbody, focus)

  const empty = document.getElementById('empty')
  empty.hidden = !state.loaded || rows.length > 0
  empty.textContent =
    state.rows.length === 0
      ? 'No files yet. Drop some here, or upload them.'
      : `No file matches “${state.filter.trim()}”.`

  const total = state.rows.length
  const bytes = state.rows.reduce((sum, row) => sum + row.size, 0)
  // Symlinks are rows but not files (never mirrored); copies that differ are worth a count.
  const links = state.rows.filter((row) => row.kind === 'symlink').length
  const differing = state.rows.filter((row) => row.differs).length
  document.getElementById('summary').textContent = state.loaded
    ? `${total - links} file${total - links === 1 ? '' : 's'}` +
      (links > 0 ? `, ${links} symlink${links === 1 ? '' : 's'}` : '') +
      (rows.length !== total ? `, ${rows.length} shown` : '') +
      ` · ${humanSize(bytes)} in all` +
      (differing > 0 ? ` · ${differing} with copies that differ` : '')
    : 'Loading…'

  const pager = document.querySelector('.pager')
  pager.hidden = pages <= 1
  document.getElementById('page-info').textContent =
    rows.length === 0
      ? ''
      : `${first + 1}–${first + shown.length} of ${rows.length} (page ${state.page + 1} of ${pages})`
  document.getElementById('prev-page').disabled = state.page === 0
  document.getElementById('next-page').disabled = state.page >= pages - 1

  for (const th of document.querySelectorAll('.listing th[data-key]')) {
    if (th.dataset.key === state.sortKey) th.setAttribute('aria-sort', state.sortDir)
    else th.removeAttribute('aria-sort')
  }
}

/** The listing's row of `name`, if the page has one. */
export function rowOf(name) {
  return state.rows.find((row) => row.name === name)
}

export function setHere(name) {
  if (state.here === name) return
  state.here = name
  render()
}

let inFlight = null
let again = false

/** Fetch the listing now (or once more right after the fetch in flight). */
export function refresh() {
  if (inFlight) {
    again = true
    return inFlight
  }
  inFlight = (async () => {
    try {
      do {
        again = false
        const { files } = await api.files()
        state.rows = files.map((row) => ({
          ...row,
          servers: row.servers ?? [],
          locks: row.locks ?? [],
        }))
        state.loaded = true
        render()
      } while (again)
    } catch (err) {
      showError('Loading the listing', err)
    } finally {
      inFlight = null
    }
  })()
  return inFlight
}

let debounce
/** Refetch soon: many calls within DEBOUNCE_MS make one fetch. */
export function scheduleRefresh() {
  clearTimeout(debounce)
  debounce = setTimeout(refresh, DEBOUNCE_MS)
}

/** Sort by `key`; the same key again turns the order around. */
function sortBy(key) {
  if (state.sortKey === key) {
    state.sortDir = state.sortDir === 'ascending' ? 'descending' : 'ascending'
  } else {
    state.sortKey = key
    // Newest and largest first is what one usually wants of those two.
    state.sortDir = key === 'mtime' || key === 'size' ? 'descending' : 'ascending'
  }
  state.page = 0
  render()
}

/** Wire the headers, the filter box and the pager. */
export function setUpListing() {
  for (const th of document.querySelectorAll('.listing th[data-key]')) {
    th.querySelector('button').addEventListener('click', () => sortBy(th.dataset.key))
  }
  const filter = document.getElementById('filter')
  filter.addEventListener('input', () => {
    state.filter = filter.value
    state.page = 0
    render()
  })
  document.getElementById('prev-page').addEventListener('click', () => {
    state.page = Math.max(0, state.page - 1)
    render()
  })
  document.getElementById('next-page').addEventListener('click', () => {
    state.page++
    render()
  })
  render()
  setInterval(scheduleRefresh, REFRESH_MS)
}
