import { displayText } from '../../../protocol/client.js'
import { plural } from '../../cli/render/format.js'
import { logLine, targetOf } from '../tables.js'
import { page } from '../pager.js'
import { bold, dim, note, waitWith } from '../ui.js'
import type { MenuAction } from './action.js'

const LIMIT = 30

export const changeLog: MenuAction = {
  id: 'log',
  title: 'Change log',
  description: `The last ${LIMIT} changes: what, when, and by which client`,
  async run(session) {
    const log = session.run((conn) => conn.log({ limit: LIMIT }), { readOnly: true })
    const { entries } = await waitWith('Reading the change log…', log)
    if (entries.length === 0) return note('The change log is empty.')
    const where = displayText(session.serverName ?? session.address)
    const which = entries.length < LIMIT ? plural(entries.length, 'change') : `the last ${LIMIT}`
    const width = Math.max(...entries.map((entry) => targetOf(entry).length))
    const title = `${bold(`Change log of server ${where}`)} ${dim(`· ${which}, oldest first`)}`
    await page([title, ...entries.map((entry) => logLine(entry, width))].join('\n'))
  },
}
