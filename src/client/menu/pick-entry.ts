/**
 * Choosing a file or a folder on the server, for the actions that work on both (download, delete,
 * rename): the listing's files, and above each folder's first file a line for the folder itself
 * (its file count and size), in one searchable list. Folders are implied by the files in them.
 */
import { displayText, type FileRow } from '../../protocol/client.js'
import { shownName } from '../cli/render/copies.js'
import { humanSize, plural } from '../cli/render/format.js'
import { describeRow, fetchListing, fileChoiceLine, matching, pickerPageSize } from './pick-file.js'
import { find } from './prompts.js'
import type { Session } from './session.js'
import { fit, note } from './ui.js'

const MAX_NAME = 44

/** A folder of the listing: its name (no trailing '/') and every file under it. */
export interface FolderEntry {
  kind: 'folder'
  name: string
  files: FileRow[]
  bytes: number
}

export type Entry = { kind: 'file'; row: FileRow } | FolderEntry

/** Every folder with its files, in listing order, each just before its first file. */
export function entriesOf(rows: readonly FileRow[]): Entry[] {
  const folders = new Map<string, FolderEntry>()
  const entries: Entry[] = []
  for (const row of rows) {
    const parts = row.name.split('/')
    for (let depth = 1; depth < parts.length; depth++) {
      const name = parts.slice(0, depth).join('/')
      let folder = folders.get(name)
      if (!folder) {
        folder = { kind: 'folder', name, files: [], bytes: 0 }
        folders.set(name, folder)
        entries.push(folder)
      }
      folder.files.push(row)
      folder.bytes += row.size
    }
    entries.push({ kind: 'file', row })
  }
  return entries
}

/** How an entry is named to a person: a folder with a trailing '/'. */
export function entryName(entry: Entry): string {
  return entry.kind === 'file' ? displayText(entry.row.name) : `${displayText(entry.name)}/`
}

/** How an entry is listed in the picker: a symlink named as one. */
function listedName(entry: Entry): string {
  return entry.kind === 'file' ? shownName(entry.row) : entryName(entry)
}

/** Let the person pick a file or a folder; undefined (with a note) when there is none. */
export async function pickEntry(session: Session, message: string): Promise<Entry | undefined> {
  const rows = await fetchListing(session)
  if (rows.length === 0) {
    note('There are no files on the server yet.')
    return undefined
  }
  const entries = entriesOf(rows)
  const indexWidth = String(Math.max(...rows.map((row) => row.index))).length
  const nameWidth = Math.min(MAX_NAME, Math.max(...entries.map((e) => [...listedName(e)].length)))
  const choices = entries.map((entry) => {
    if (entry.kind === 'file') {
      const { row } = entry
      return {
        value: entry,
        name: fileChoiceLine(row, indexWidth, nameWidth),
        short: entryName(entry),
        description: describeRow(row),
      }
    }
    const shown = fit(entryName(entry), nameWidth).padEnd(nameWidth)
    const size = humanSize(entry.bytes).padStart(9)
    return {
      value: entry,
      name: `${' '.repeat(indexWidth)}  ${shown}  ${size}  ${plural(entry.files.length, 'file')}`,
      short: entryName(entry),
      description: `folder ${entryName(entry)} · ${plural(entry.files.length, 'file')} · ${humanSize(entry.bytes)}`,
    }
  })
  return find<Entry>(
    {
      message,
      pageSize: pickerPageSize(),
      source: (term) =>
        matching(
          choices,
          term,
          (entry: Entry) => (entry.kind === 'file' ? entry.row.index : undefined),
          entryName,
        ),
    },
    entryName,
  )
}
