import { renderStatus } from '../../cli/render/status.js'
import { page } from '../pager.js'
import { waitWith } from '../ui.js'
import type { MenuAction } from './action.js'

export const serverStatus: MenuAction = {
  id: 'status',
  title: 'Server status',
  description: 'This server, its clients, peers and locks',
  async run(session) {
    const status = session.run((conn) => conn.status(), { readOnly: true })
    await page(renderStatus(await waitWith('Asking the server…', status)))
  },
}
