import { displayText } from '../../../protocol/index.js'
import { humanSize } from '../../cli/render/format.js'
import { pickFile } from '../pick-file.js'
import { yesNo } from '../prompts.js'
import { note, success, waitWith } from '../ui.js'
import type { MenuAction } from './action.js'

export const deleteFile: MenuAction = {
  id: 'delete',
  title: 'Delete a file',
  description: 'Remove a file from the server (asks first)',
  async run(session) {
    const row = await pickFile(session, 'File to delete')
    if (!row) return
    const name = displayText(row.name)
    const sure = await yesNo(
      `Delete ${name} (${humanSize(row.size)})? This cannot be undone.`,
      false,
    )
    if (!sure) return note(`Kept ${name}.`)
    await waitWith(
      `Deleting ${row.name}…`,
      session.run((conn) => conn.delete(row.name)),
    )
    success(`Deleted ${name}`)
  },
}
