import { fetchListing } from '../pick-file.js'
import { listingTable } from '../tables.js'
import { page } from '../pager.js'
import { note } from '../ui.js'
import type { MenuAction } from './action.js'

export const listFiles: MenuAction = {
  id: 'list',
  title: 'List files',
  description: 'Every file with its index, size, modified time, servers and lock, a page at a time',
  async run(session) {
    const rows = await fetchListing(session)
    if (rows.length === 0) return note('There are no files on the server yet.')
    await page(listingTable(rows))
  },
}
