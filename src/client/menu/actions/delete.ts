import { displayText } from '../../../protocol/client.js'
import { humanSize, plural } from '../../cli/render/format.js'
import { entryName, pickEntry } from '../pick-entry.js'
import { yesNo } from '../prompts.js'
import { note, success, waitWith } from '../ui.js'
import type { MenuAction } from './action.js'

export const deleteFile: MenuAction = {
  id: 'delete',
  title: 'Delete a file or folder',
  description: 'Remove a file, or a folder with everything in it, from the server (asks first)',
  async run(session) {
    const entry = await pickEntry(session, 'File or folder to delete')
    if (!entry) return
    const shown = entryName(entry)
    const what =
      entry.kind === 'file'
        ? `${shown} (${humanSize(entry.row.size)})`
        : `the folder ${shown} and its ${plural(entry.files.length, 'file')} (${humanSize(entry.bytes)})`
    const sure = await yesNo(`Delete ${what}? This cannot be undone.`, false)
    if (!sure) return note(`Kept ${shown}.`)
    const name = entry.kind === 'file' ? entry.row.name : entry.name
    const recursive = entry.kind === 'folder'
    const deleting = session.run((conn, rid) => conn.delete(name, { recursive, rid }))
    const result = await waitWith(`Deleting ${displayText(name)}…`, deleting)
    const count = result.files === undefined ? '' : ` (${plural(result.files, 'file')})`
    success(`Deleted ${shown}${count}`)
  },
}
