// tandem's web page: the listing of the whole cluster, uploads, the row actions, the activity
// and peers panels, and the client id. Each part lives in its own module; this one starts them.

import { setUpActions } from './actions.js'
import { setUpActivity } from './activity.js'
import { clientId, clientIdProblem, onClientIdChange, setClientId } from './client-id.js'
import { connect } from './events.js'
import { refresh, render, setUpListing } from './listing.js'
import { setUpPeers } from './peers.js'
import { note, showError } from './status.js'
import { setUpUploads } from './uploads.js'

function setUpClientId() {
  const form = document.getElementById('client-id-form')
  const input = document.getElementById('client-id')
  input.value = clientId()
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const id = input.value.trim()
    const problem = clientIdProblem(id)
    if (problem) {
      input.setAttribute('aria-invalid', 'true')
      showError('Changing the client id', { code: 'ERR_BAD_REQUEST', message: problem })
      return
    }
    input.removeAttribute('aria-invalid')
    if (id === clientId()) return
    setClientId(id)
    note(`You are ${id} now`)
  })
  // Escape puts back the id in use.
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      input.value = clientId()
      input.removeAttribute('aria-invalid')
    }
  })
  onClientIdChange(() => {
    // "yours" badges and lock buttons follow the id; the stream is opened as the new client.
    render()
    connect()
  })
}

setUpClientId()
setUpListing()
setUpActions()
setUpUploads()
setUpActivity()
setUpPeers()
void refresh()
connect()
