// The live feed: the server's change log over Server-Sent Events (GET /api/v1/events). Every
// change goes to the activity panel and makes the listing refetch (debounced); a peer going up
// or down refetches the status too. The browser reconnects by itself after a dropped stream
// (sending Last-Event-ID, so nothing is missed); a stream the server refused (busy, or gone) is
// opened again here, after a growing pause, resuming after the last event seen.

import { api, eventsUrl } from './api.js'
import { addEvents, lastSeq } from './activity.js'
import { scheduleRefresh, refresh } from './listing.js'
import { refreshStatus } from './peers.js'

/** Events shown from the log when the page opens. */
const HISTORY = 50
const RETRY_MIN_MS = 1000
const RETRY_MAX_MS = 15_000

let source = null
let retryMs = RETRY_MIN_MS
let retryTimer
let historyLoaded = false

function setConnection(state, text) {
  const line = document.querySelector('[data-testid="connection"]')
  line.dataset.state = state
  line.querySelector('.connection-text').textContent = text
}

function onChange(event) {
  let entry
  try {
    entry = JSON.parse(event.data)
  } catch {
    return
  }
  addEvents([entry])
  scheduleRefresh()
  if (typeof entry.op === 'string' && entry.op.startsWith('member-')) void refreshStatus()
}

async function loadHistory() {
  try {
    const { entries } = await api.log(HISTORY)
    addEvents(entries ?? [])
    historyLoaded = true
  } catch {
    // the panel fills with new events anyway
  }
}

/** Open the stream (again), resuming after the newest event the page has. */
export function connect() {
  clearTimeout(retryTimer)
  source?.close()
  const since = lastSeq()
  const url = since === null ? eventsUrl() : `${eventsUrl()}&since=${since}`
  const stream = new EventSource(url)
  source = stream
  setConnection('connecting', 'connecting…')
  stream.addEventListener('change', onChange)
  stream.addEventListener('open', () => {
    retryMs = RETRY_MIN_MS
    setConnection('live', 'live')
    // Opened first, then the log: an event between the two is in one or the other (or both:
    // the panel shows each seq once).
    if (!historyLoaded) void loadHistory()
    // What changed while the stream was away.
    void refresh()
    void refreshStatus()
  })
  stream.addEventListener('error', () => {
    if (source !== stream) return
    if (stream.readyState === EventSource.CONNECTING) {
      setConnection('connecting', 'reconnecting…')
      return
    }
    // Closed for good (a refusal such as 503 ERR_BUSY): open a new one after a while.
    setConnection('down', `not connected, retrying in ${Math.round(retryMs / 1000)} s`)
    retryTimer = setTimeout(connect, retryMs)
    retryMs = Math.min(RETRY_MAX_MS, retryMs * 2)
  })
}
