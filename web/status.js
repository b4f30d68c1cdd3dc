// The status line at the bottom of the page: a live region, so what happened (and what went
// wrong, with the server's error code) is read out too. The region itself is always there (a
// region that appears is not always read out); it is empty when there is nothing to say. Errors
// stay until dismissed or replaced; other messages fade after a few seconds.

const NOTE_MS = 4000

let hideTimer

function line() {
  return document.getElementById('status')
}

function show(kind, parts, sticky, ms = NOTE_MS) {
  const el = line()
  clearTimeout(hideTimer)
  el.replaceChildren()
  el.dataset.kind = kind
  const text = document.createElement('span')
  text.className = 'status-text'
  for (const part of parts) text.append(part)
  el.append(text)
  if (sticky) {
    const close = document.createElement('button')
    close.type = 'button'
    close.className = 'button small ghost'
    close.textContent = 'Dismiss'
    close.setAttribute('aria-label', 'Dismiss this message')
    close.addEventListener('click', clear)
    el.append(close)
  } else {
    hideTimer = setTimeout(clear, ms)
  }
}

export function clear() {
  const el = line()
  clearTimeout(hideTimer)
  el.replaceChildren()
  delete el.dataset.kind
}

/** Something went well: "Uploaded a.txt". */
export function note(message) {
  show('ok', [message], false)
}

/** An error: `what` failed, with the server's code and message. */
export function showError(what, error) {
  const code = document.createElement('code')
  code.textContent = error.code ?? 'ERROR'
  show('error', [`${what} failed: `, code, ` ${error.message ?? String(error)}`], true)
}

/** All client slots are taken: the page waits `seconds`, then asks again. */
export function showBusy(seconds, what) {
  const code = document.createElement('code')
  code.textContent = 'ERR_BUSY'
  show(
    'busy',
    [code, ` server busy, retrying ${what} in ${seconds} s…`],
    false,
    seconds * 1000 + NOTE_MS,
  )
}
