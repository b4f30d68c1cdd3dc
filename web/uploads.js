// Uploads: files from the pickers or dropped on the page (folders walked, their files named by
// their paths, with '/'), each sent as PUT /api/v1/files/<name> by XMLHttpRequest so that its
// progress shows. A few go at once; the rest wait their turn. A busy server (503 ERR_BUSY) is
// asked again after its Retry-After; a cancelled upload leaves nothing on the server.

import { errorFromBody, fileUrl, retryAfterSeconds, waitBusy } from './api.js'
import { clientId } from './client-id.js'
import { humanSize } from './format.js'
import { scheduleRefresh } from './listing.js'
import { note, showError } from './status.js'

const PARALLEL = 3
/** A finished upload's line stays this long. */
const DONE_MS = 5000
const BUSY_RETRIES = 20

const waiting = []
let running = 0

function el(tag, className, text) {
  const node = document.createElement(tag)
  if (className) node.className = className
  if (text !== undefined) node.textContent = text
  return node
}

/** One upload's line in the list: name, progress bar, what is happening, cancel/dismiss. */
function uploadLine(job) {
  const li = el('li', 'upload')
  li.dataset.state = 'waiting'
  const name = el('span', 'upload-name', job.name)
  name.title = job.name
  const bar = el('progress')
  bar.max = job.file.size || 1
  bar.value = 0
  bar.setAttribute('aria-label', `Uploading ${job.name}`)
  const text = el('span', 'upload-text', `waiting · ${humanSize(job.file.size)}`)
  const cancel = el('button', 'button small ghost', 'Cancel')
  cancel.type = 'button'
  cancel.setAttribute('aria-label', `Cancel the upload of ${job.name}`)
  cancel.addEventListener('click', () => job.cancel())
  li.append(name, bar, text, cancel)
  job.li = li
  job.bar = bar
  job.text = text
  job.button = cancel
  return li
}

function finish(job, state, text) {
  job.li.dataset.state = state
  job.text.textContent = text
  if (state === 'done') {
    job.bar.value = job.bar.max
    job.button.remove()
    setTimeout(() => job.li.remove(), DONE_MS)
  } else {
    job.button.textContent = 'Dismiss'
    job.button.setAttribute('aria-label', `Dismiss the upload of ${job.name}`)
    job.cancel = () => job.li.remove()
  }
}

/** Send the file once; resolves with {status, body, retryAfter}. */
function send(job) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest()
    job.cancel = () => xhr.abort()
    xhr.open('PUT', fileUrl(job.name))
    xhr.setRequestHeader('X-Tandem-Client-Id', clientId())
    // The bytes as they are, whatever the file's type (a .json file is not a JSON request).
    xhr.setRequestHeader('Content-Type', 'application/octet-stream')
    xhr.upload.addEventListener('progress', (event) => {
      job.bar.value = event.loaded
      const percent = job.file.size ? Math.floor((100 * event.loaded) / job.file.size) : 100
      job.text.textContent = `${percent}% of ${humanSize(job.file.size)}`
    })
    xhr.addEventListener('load', () =>
      resolve({
        status: xhr.status,
        body: xhr.responseText,
        statusText: xhr.statusText,
        retryAfter: xhr.getResponseHeader('Retry-After'),
      }),
    )
    xhr.addEventListener('error', () => resolve({ status: 0, network: true }))
    xhr.addEventListener('abort', () => resolve({ status: 0, aborted: true }))
    xhr.send(job.file)
  })
}

async function upload(job) {
  job.li.dataset.state = 'sending'
  for (let attempt = 0; ; attempt++) {
    const result = await send(job)
    if (result.aborted) return finish(job, 'cancelled', 'cancelled')
    if (result.network) {
      showError(`Uploading ${job.name}`, { code: 'ERR_NETWORK', message: 'no answer' })
      return finish(job, 'failed', 'failed: no answer from the server')
    }
    if (result.status >= 200 && result.status < 300) {
      const created = result.status === 201 ? 'created' : 'replaced'
      finish(job, 'done', `${created} · ${humanSize(job.file.size)}`)
      return note(`Uploaded ${job.name}`)
    }
    const error = errorFromBody(result.body, result.status, result.statusText)
    if (error.code === 'ERR_BUSY' && attempt < BUSY_RETRIES) {
      job.text.textContent = 'server busy, retrying…'
      job.bar.value = 0
      await waitBusy(retryAfterSeconds(result.retryAfter), `the upload of ${job.name}`)
      continue
    }
    showError(`Uploading ${job.name}`, error)
    return finish(job, 'failed', `${error.code}: ${error.message}`)
  }
}

function pump() {
  while (running < PARALLEL && waiting.length > 0) {
    const job = waiting.shift()
    running++
    upload(job).finally(() => {
      running--
      scheduleRefresh()
      pump()
    })
  }
}

/** Upload each of `items` ({file, name}). */
export function uploadAll(items) {
  const list = document.getElementById('uploads')
  for (const { file, name } of items) {
    const job = { file, name }
    job.cancel = () => {
      // not started yet: just leave the queue
      const at = waiting.indexOf(job)
      if (at >= 0) waiting.splice(at, 1)
      finish(job, 'cancelled', 'cancelled')
    }
    list.append(uploadLine(job))
    waiting.push(job)
  }
  pump()
}

/** The files of a picker: a folder picker names them by their path inside the chosen folder. */
function pickedFiles(input) {
  return Array.from(input.files ?? [], (file) => ({
    file,
    name: file.webkitRelativePath || file.name,
  }))
}

function readEntries(reader) {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject))
}

/** Every file under a dropped entry, named by its path from the dropped item ('/'-separated). */
async function walk(entry, out) {
  if (entry.isFile) {
    const file = await new Promise((resolve, reject) => entry.file(resolve, reject))
    out.push({ file, name: entry.fullPath.replace(/^\/+/, '') })
  } else if (entry.isDirectory) {
    const reader = entry.createReader()
    // readEntries hands out a folder's entries a batch at a time, until an empty batch.
    for (let batch = await readEntries(reader); batch.length > 0; batch = await readEntries(reader))
      for (const child of batch) await walk(child, out)
  }
}

async function droppedFiles(dataTransfer) {
  // The entries must be taken before the first await: the drop's data goes away after it.
  const entries = Array.from(dataTransfer.items ?? [])
    .filter((item) => item.kind === 'file')
    .map((item) => item.webkitGetAsEntry?.())
  if (entries.length === 0 || entries.some((entry) => !entry))
    return Array.from(dataTransfer.files, (file) => ({ file, name: file.name }))
  const out = []
  for (const entry of entries) await walk(entry, out)
  return out
}

function setUpDragAndDrop() {
  const overlay = document.getElementById('drag-overlay')
  const zone = document.getElementById('drop-zone')
  let depth = 0
  const carriesFiles = (event) => Array.from(event.dataTransfer?.types ?? []).includes('Files')
  window.addEventListener('dragenter', (event) => {
    if (!carriesFiles(event)) return
    depth++
    overlay.hidden = false
    zone.classList.add('over')
  })
  window.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1)
    if (depth === 0) {
      overlay.hidden = true
      zone.classList.remove('over')
    }
  })
  window.addEventListener('dragover', (event) => {
    if (!carriesFiles(event)) return
    event.preventDefault()
    event.dataTransfer.dropEffect = 'copy'
  })
  window.addEventListener('drop', (event) => {
    if (!carriesFiles(event)) return
    event.preventDefault()
    depth = 0
    overlay.hidden = true
    zone.classList.remove('over')
    droppedFiles(event.dataTransfer).then(
      (items) => (items.length > 0 ? uploadAll(items) : note('Nothing to upload (empty folder)')),
      (err) => showError('Reading the dropped files', { code: 'ERR_READ', message: String(err) }),
    )
  })
}

export function setUpUploads() {
  for (const id of ['file-input', 'folder-input']) {
    const input = document.getElementById(id)
    input.addEventListener('change', () => {
      const items = pickedFiles(input)
      // Cleared so that choosing the same file again uploads it again.
      input.value = ''
      if (items.length > 0) uploadAll(items)
    })
  }
  setUpDragAndDrop()
}
