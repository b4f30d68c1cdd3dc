/**
 * Choosing a file on the server: the listing in a searchable list (type part of a name, or an
 * index), so nobody has to type a name exactly. Names are shown escaped (displayText).
 */
import { displayText, type FileRow } from '../../protocol/client.js'
import { copiesLine, DIFFERS, serversCell, shownName, shownSize } from '../cli/render/copies.js'
import { localTime } from '../cli/render/format.js'
import { describeLocks } from '../cli/render/locks.js'
import { find } from './prompts.js'
import type { Session } from './session.js'
import { fit, note, waitWith } from './ui.js'

const MIN_PAGE = 5
const MAX_PAGE = 50
const MAX_NAME = 44

/** The server's files, with a spinner while they come. */
export async function fetchListing(session: Session): Promise<FileRow[]> {
  const listing = session.run((conn) => conn.list(), { readOnly: true })
  return (await waitWith('Fetching the file list…', listing)).files
}

export interface PickOptions {
  /** Choose among these rows (a part of the listing) instead of fetching the whole listing. */
  rows?: readonly FileRow[]
}

/** Let the person pick one file; undefined (with a note) when there is none to pick. */
export async function pickFile(
  session: Session,
  message: string,
  options: PickOptions = {},
): Promise<FileRow | undefined> {
  const rows = options.rows ?? (await fetchListing(session))
  if (rows.length === 0) {
    note('There are no files on the server yet.')
    return undefined
  }
  const indexWidth = String(Math.max(...rows.map((row) => row.index))).length
  const shown = (row: FileRow): string => displayText(row.name)
  const listed = (row: FileRow): string => shownName(row)
  const nameWidth = Math.min(MAX_NAME, Math.max(...rows.map((row) => [...listed(row)].length)))
  const choice = (row: FileRow) => ({
    value: row,
    name: fileChoiceLine(row, indexWidth, nameWidth),
    short: shown(row),
    description: describeRow(row),
  })
  const choices = rows.map(choice)
  return find<FileRow>(
    {
      message,
      pageSize: pickerPageSize(),
      source: (term) =>
        matching(
          choices,
          term,
          (row: FileRow) => row.index,
          (row: FileRow) => row.name,
        ),
    },
    shown,
  )
}

/** The highlighted file in full: size, time, servers, who holds it locked where, which copy is which. */
export function describeRow(row: FileRow): string {
  const locks = describeLocks(row.locks, row.locked, true)
  const parts = [
    shownName(row),
    shownSize(row),
    `modified ${localTime(row.mtime)}`,
    `on ${serversCell(row)}`,
  ]
  if (locks !== '') parts.push(locks)
  const copies = copiesLine(row)
  return copies === undefined ? parts.join(' · ') : `${parts.join(' · ')}\n${copies}`
}

/** A file's line in a picker: index, name (a symlink named as one), size, ≠ when copies differ. */
export function fileChoiceLine(row: FileRow, indexWidth: number, nameWidth: number): string {
  const name = fit(shownName(row), nameWidth).padEnd(nameWidth)
  const differs = row.differs ? ` ${DIFFERS}` : ''
  return `${String(row.index).padStart(indexWidth)}  ${name}  ${shownSize(row).padStart(9)}${differs}`
}

/**
 * As many choices as the terminal has room for, besides the question, the key hints and the
 * description (which may take three lines): the list scrolls past the rest.
 */
export function pickerPageSize(rows = process.stdout.rows): number {
  const room = (rows ?? 24) - 8
  return Math.max(MIN_PAGE, Math.min(MAX_PAGE, room))
}

/**
 * Choices whose name contains `term` (any case); a number also finds the file with that index,
 * first. A whole choice line (Tab copies it into the search) finds its own choice. `indexOf` and
 * `nameOf` say what of a choice's value is its index (none for a folder) and its name.
 */
export function matching<V, C extends { value: V; name: string }>(
  choices: readonly C[],
  term: string | undefined,
  indexOf: (value: V) => number | undefined,
  nameOf: (value: V) => string,
): C[] {
  const wanted = (term ?? '').trim().toLowerCase()
  if (wanted === '') return [...choices]
  const exact = choices.filter((c) => c.name.trim().toLowerCase() === wanted)
  if (exact.length > 0) return exact
  const index = /^\d+$/.test(wanted) ? Number(wanted) : undefined
  const isIndex = (c: C): boolean => index !== undefined && indexOf(c.value) === index
  const byIndex = choices.filter(isIndex)
  const byName = choices.filter(
    (c) => nameOf(c.value).toLowerCase().includes(wanted) && !isIndex(c),
  )
  return [...byIndex, ...byName]
}
