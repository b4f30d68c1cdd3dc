import { displayText } from '../../../protocol/client.js'
import { plural } from '../../cli/render/format.js'
import { checkName, storedName } from '../name-check.js'
import { entryName, pickEntry } from '../pick-entry.js'
import { ask } from '../prompts.js'
import { success, waitWith } from '../ui.js'
import type { MenuAction } from './action.js'

export const renameFile: MenuAction = {
  id: 'rename',
  title: 'Rename a file or folder',
  description: 'Give a file or a folder a new name (or move it to another folder)',
  async run(session) {
    const entry = await pickEntry(session, 'File or folder to rename')
    if (!entry) return
    const from = entry.kind === 'file' ? entry.row.name : entry.name
    const answer = await ask({
      message: 'New name',
      // Escaped: a name that needed escapes cannot be renamed (the server refuses it) anyway.
      default: displayText(from),
      prefill: 'editable',
      validate: (value) => {
        const valid = checkName(value)
        if (valid !== true) return valid
        return storedName(value) === from ? 'That is its name now; type a new one' : true
      },
    })
    const to = storedName(answer)
    const renaming = session.run((conn, rid) => conn.rename(from, to, { rid }))
    await waitWith(`Renaming ${displayText(from)}…`, renaming)
    const what =
      entry.kind === 'file'
        ? displayText(from)
        : `the folder ${entryName(entry)} (${plural(entry.files.length, 'file')})`
    const shownTo = entry.kind === 'file' ? displayText(to) : `${displayText(to)}/`
    success(`Renamed ${what} → ${shownTo}`)
  },
}
