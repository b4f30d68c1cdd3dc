// The page's client id: who this page is to the server (locks are owned by it). Made once as
// `web-` and a random part, kept in this browser's localStorage, and changeable by the person.

const KEY = 'tandem.clientId'
/** What the page lets a person type: it travels in a header, so plain ASCII, no spaces. */
const VALID = /^[A-Za-z0-9._@:+-]{1,128}$/

let current = load()
const listeners = new Set()

function fresh() {
  const bytes = new Uint8Array(6)
  crypto.getRandomValues(bytes)
  return `web-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`
}

function load() {
  let stored = null
  try {
    stored = localStorage.getItem(KEY)
  } catch {
    // storage off (private mode): an id for this visit only
  }
  if (stored && VALID.test(stored)) return stored
  const id = fresh()
  save(id)
  return id
}

function save(id) {
  try {
    localStorage.setItem(KEY, id)
  } catch {
    // kept in memory only
  }
}

export function clientId() {
  return current
}

/** Why `id` cannot be used, or null when it can. */
export function clientIdProblem(id) {
  if (id.length === 0) return 'the client id cannot be empty'
  if (id.length > 128) return 'the client id is at most 128 characters'
  if (!VALID.test(id)) return 'use letters, digits and . _ - @ : + only'
  return null
}

/** Use `id` from now on (checked with clientIdProblem first); tells the listeners. */
export function setClientId(id) {
  if (id === current) return
  current = id
  save(id)
  for (const listener of listeners) listener(id)
}

/** Call `listener(id)` whenever the client id changes. */
export function onClientIdChange(listener) {
  listeners.add(listener)
}
