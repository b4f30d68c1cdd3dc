// The peers panel: this server's name and clients, and each peer with its state (up, stalled,
// down), when it was last heard and how many of its changes wait here. From GET /api/v1/status,
// fetched every STATUS_MS and whenever a peer goes up or down.

import { api } from './api.js'
import { ago } from './format.js'
import { setHere } from './listing.js'
import { showError } from './status.js'

const STATUS_MS = 10_000

function el(tag, className, text) {
  const node = document.createElement(tag)
  if (className) node.className = className
  if (text !== undefined) node.textContent = text
  return node
}

function peerLine(peer) {
  const li = el('li', 'peer')
  li.dataset.state = peer.state
  const head = el('div', 'peer-head')
  head.append(el('span', 'peer-name', peer.name ?? 'unknown yet'))
  head.append(el('span', `state state-${peer.state}`, peer.state))
  const facts = [peer.address, `heard ${ago(peer.lastHeard)}`]
  if (typeof peer.behind === 'number')
    facts.push(`${peer.behind} change${peer.behind === 1 ? '' : 's'} behind`)
  li.append(head, el('div', 'peer-meta', facts.join(' · ')))
  return li
}

function show(status) {
  const name = status.server?.name ?? ''
  for (const node of document.querySelectorAll('.server-name')) node.textContent = name
  document.title = name ? `tandem ${name}` : 'tandem'
  setHere(name)
  const clients = status.clients
  document.getElementById('clients').textContent = clients
    ? `${clients.connected} of ${clients.max} client slots in use`
    : ''
  const list = document.getElementById('peers')
  const peers = status.peers ?? []
  list.replaceChildren(
    ...(peers.length > 0
      ? peers.map(peerLine)
      : [el('li', 'peer-none', 'No peers: this server mirrors with nobody.')]),
  )
}

let failing = false
let inFlight = null

/** Fetch the status (once at a time: a busy server's retries do not pile up). */
export function refreshStatus() {
  inFlight ??= (async () => {
    try {
      show(await api.status())
      failing = false
    } catch (err) {
      // Said once, not every STATUS_MS while the server is away.
      if (!failing) showError('Loading the status', err)
      failing = true
    } finally {
      inFlight = null
    }
  })()
  return inFlight
}

export function setUpPeers() {
  void refreshStatus()
  setInterval(() => void refreshStatus(), STATUS_MS)
}
