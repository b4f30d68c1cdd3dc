import { displayText } from '../../../protocol/index.js'
import { checkName, storedName } from '../name-check.js'
import { pickFile } from '../pick-file.js'
import { ask } from '../prompts.js'
import { success, waitWith } from '../ui.js'
import type { MenuAction } from './action.js'

export const renameFile: MenuAction = {
  id: 'rename',
  title: 'Rename a file',
  description: 'Give a file a new name (or move it to another folder)',
  async run(session) {
    const row = await pickFile(session, 'File to rename')
    if (!row) return
    const answer = await ask({
      message: 'New name',
      // Escaped: a name that needed escapes cannot be renamed (the server refuses it) anyway.
      default: displayText(row.name),
      prefill: 'editable',
      validate: (value) => {
        const valid = checkName(value)
        if (valid !== true) return valid
        return storedName(value) === row.name ? 'That is its name now; type a new one' : true
      },
    })
    const to = storedName(answer)
    const renaming = session.run((conn) => conn.rename(row.name, to))
    await waitWith(`Renaming ${row.name}…`, renaming)
    success(`Renamed ${displayText(row.name)} → ${displayText(to)}`)
  },
}
