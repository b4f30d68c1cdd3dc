// The page's three dialogs: confirm a delete, ask for a new name, and show a text file. They are
// <dialog> elements opened with showModal(): focus moves into them and stays, Escape closes them,
// and focus goes back to the button that opened them.

import { request, fileUrl } from './api.js'
import { humanSize } from './format.js'

/** The viewer shows at most this much of a file. */
export const VIEW_LIMIT = 1024 * 1024

/**
 * Where focus goes back to: the opener, or, when the listing was rebuilt meanwhile (a change
 * arrived), the same action of the same file's new row.
 */
function returnPoint(opener) {
  if (!(opener instanceof HTMLElement)) return () => null
  const name = opener.closest('tr')?.dataset.name
  const action = opener.dataset.action
  return () => {
    if (opener.isConnected) return opener
    if (name === undefined || action === undefined) return null
    const row = Array.from(document.getElementById('rows').rows).find(
      (tr) => tr.dataset.name === name,
    )
    return row?.querySelector(`[data-action="${action}"]`) ?? null
  }
}

/** Open `dialog` and resolve with its returnValue once it closes (Escape: 'cancel'). */
function run(dialog, focus) {
  return new Promise((resolve) => {
    const back = returnPoint(document.activeElement)
    dialog.returnValue = ''
    dialog.addEventListener(
      'close',
      () => {
        const target = back() ?? document.getElementById('files-heading')
        target.focus()
        resolve(dialog.returnValue || 'cancel')
      },
      { once: true },
    )
    dialog.showModal()
    focus?.focus()
  })
}

/** Ask before deleting `name`; resolves true when the person confirmed. */
export async function confirmDelete(name) {
  const dialog = document.getElementById('confirm-dialog')
  document.getElementById('confirm-title').textContent = 'Delete this file?'
  const text = document.getElementById('confirm-text')
  const strong = document.createElement('strong')
  strong.textContent = name
  text.replaceChildren(
    strong,
    ' will be deleted here and on every server that mirrors it. This cannot be undone.',
  )
  // Cancel is focused first: Enter right away does not delete.
  const cancel = dialog.querySelector('button[value="cancel"]')
  return (await run(dialog, cancel)) === 'ok'
}

/** Ask for the new name of `name`; resolves with it, or null when cancelled or unchanged. */
export async function askNewName(name) {
  const dialog = document.getElementById('rename-dialog')
  document.getElementById('rename-title').textContent = `Rename ${name}`
  const input = document.getElementById('rename-to')
  input.value = name
  const result = await run(dialog, input)
  const to = input.value.trim()
  return result === 'ok' && to !== '' && to !== name ? to : null
}

/** Select the base name (without folders and extension) in the rename box, as file managers do. */
function selectBaseName(input) {
  const value = input.value
  const start = value.lastIndexOf('/') + 1
  const dot = value.lastIndexOf('.')
  input.setSelectionRange(start, dot > start ? dot : value.length)
}

document.getElementById('rename-dialog').addEventListener('focusin', (event) => {
  if (event.target.id === 'rename-to' && !event.target.dataset.selected) {
    event.target.dataset.selected = 'yes'
    selectBaseName(event.target)
  }
})
// Cancel is a plain button (Enter in the name box submits with Rename, the form's only submit).
for (const cancel of document.querySelectorAll('dialog button[value="cancel"]'))
  cancel.addEventListener('click', () => cancel.closest('dialog').close('cancel'))

document.getElementById('rename-dialog').addEventListener('close', () => {
  delete document.getElementById('rename-to').dataset.selected
})

/**
 * Show the start of `row`'s file as text (never as HTML: it goes into textContent). Bytes that
 * are not UTF-8 show as �; a file that looks binary says so.
 */
export async function viewText(row) {
  const dialog = document.getElementById('view-dialog')
  const title = document.getElementById('view-title')
  const note = document.getElementById('view-note')
  const pre = document.getElementById('view-text')
  title.textContent = row.name
  note.textContent = 'Loading…'
  pre.textContent = ''
  const closed = run(dialog, pre)
  try {
    // A range only when the file is larger than the limit (a range of an empty file is a 416).
    const headers = row.size > VIEW_LIMIT ? { Range: `bytes=0-${VIEW_LIMIT - 1}` } : {}
    // `purpose=read`: the server's change log says "read", not "download".
    const url = `${fileUrl(row.name)}?purpose=read`
    const response = await request(url, { headers }, `reading ${row.name}`)
    const buffer = await response.arrayBuffer()
    const bytes = new Uint8Array(buffer, 0, Math.min(buffer.byteLength, VIEW_LIMIT))
    pre.textContent = new TextDecoder('utf-8').decode(bytes)
    const binary = bytes.subarray(0, 8192).includes(0)
    const total = row.size > bytes.length ? `the first ${humanSize(bytes.length)} of ` : ''
    note.textContent =
      `${total}${humanSize(row.size)}` + (binary ? ' — this looks like a binary file' : '')
  } catch (err) {
    note.textContent = `Could not read it: ${err.code ?? ''} ${err.message}`
  }
  await closed
}
