// What the row buttons do: view, rename, lock, unlock and delete, each through the API. The
// listing is fetched again afterwards (the change event would bring it too, a moment later).

import { api } from './api.js'
import { askNewName, confirmDelete, viewText } from './dialogs.js'
import { refresh, rowOf } from './listing.js'
import { note, showError } from './status.js'

async function attempt(what, work) {
  try {
    await work()
  } catch (err) {
    showError(what, err)
  } finally {
    await refresh()
  }
}

const actions = {
  async view(row) {
    await viewText(row)
  },
  async rename(row) {
    const to = await askNewName(row.name)
    if (to === null) return
    await attempt(`Renaming ${row.name}`, async () => {
      await api.rename(row.name, to)
      note(`Renamed ${row.name} → ${to}`)
    })
  },
  async delete(row) {
    if (!(await confirmDelete(row.name))) return
    await attempt(`Deleting ${row.name}`, async () => {
      await api.remove(row.name)
      note(`Deleted ${row.name}`)
    })
  },
  async lock(row) {
    await attempt(`Locking ${row.name}`, async () => {
      const lock = await api.lock(row.name)
      note(`Locked ${row.name} at ${lock.server ?? 'this server'}`)
    })
  },
  async unlock(row) {
    await attempt(`Unlocking ${row.name}`, async () => {
      const result = await api.unlock(row.name)
      const applied = result.applied > 0 ? `, ${result.applied} waiting update(s) applied` : ''
      note(`Unlocked ${row.name}${applied}`)
    })
  },
}

/** Run the row actions clicked (or Entered) in the listing's body. */
export function setUpActions() {
  document.getElementById('rows').addEventListener('click', (event) => {
    const target = event.target instanceof Element ? event.target.closest('[data-action]') : null
    if (!target) return
    const action = actions[target.dataset.action]
    // Downloads are plain links: the browser does the rest.
    if (!action) return
    const row = rowOf(target.closest('tr')?.dataset.name)
    if (!row) return
    event.preventDefault()
    void action(row)
  })
}
