import { fetchListing } from '../pick-file.js'
import { listingTable } from '../tables.js'
import { note, say } from '../ui.js'
import type { MenuAction } from './action.js'

export const listFiles: MenuAction = {
  id: 'list',
  title: 'List files',
  description: 'Every file with its index, size, modified time, servers and lock',
  async run(session) {
    const rows = await fetchListing(session)
    if (rows.length === 0) return note('There are no files on the server yet.')
    say(listingTable(rows))
  },
}
