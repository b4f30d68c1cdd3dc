import { displayText, type FileRow } from '../../../protocol/client.js'
import { humanSize, localTime } from '../../cli/render/format.js'
import { fetchStart } from '../fetch-text.js'
import { pickFile } from '../pick-file.js'
import { yesNo } from '../prompts.js'
import type { Session } from '../session.js'
import { bold, dim, note, say, warn } from '../ui.js'
import type { MenuAction } from './action.js'
import { downloadRow } from './download.js'

const MAX_BYTES = 64 * 1024 // far more than two screens of text
const GUTTER = 7 // '  123 │ '
const TAB = '    '

export const showFile: MenuAction = {
  id: 'show',
  title: 'Show a file',
  description: 'Print the beginning of a text file here (about two screens)',
  async run(session) {
    const row = await pickFile(session, 'File to show')
    if (!row) return
    const start = await fetchStart(session, row, MAX_BYTES)
    say(
      `${bold(displayText(row.name))} ${dim(`· ${humanSize(row.size)} · modified ${localTime(row.mtime)}`)}`,
    )
    if (start.text === undefined) return offerDownload(session, row)
    if (start.text === '') return note('(the file is empty)')
    const shown = printText(start.text)
    if (shown.complete && !start.truncated) return note(`(end of ${displayText(row.name)})`)
    note(
      `(${shown.lines} lines shown; the rest is longer than two screens — download it to see it all)`,
    )
  },
}

async function offerDownload(session: Session, row: FileRow): Promise<void> {
  warn(`This looks like binary content, which the terminal cannot show.`)
  if (await yesNo('Download it instead?', true)) await downloadRow(session, row)
}

/**
 * Print numbered lines until about two screens are full, counting wrapped lines. Control
 * characters are shown as '�', so a file cannot drive the terminal.
 */
function printText(text: string): { lines: number; complete: boolean } {
  const columns = Math.max(40, process.stdout.columns ?? 80) - GUTTER
  const budget = Math.max(10, ((process.stdout.rows ?? 24) - 4) * 2)
  const lines = text.replace(/\r?\n$/, '').split(/\r?\n/)
  let used = 0
  let printed = 0
  for (const raw of lines) {
    const line = clean(raw)
    const rows = Math.max(1, Math.ceil([...line].length / columns))
    if (used + rows > budget) return { lines: printed, complete: false }
    say(`${dim(`${String(printed + 1).padStart(5)} │`)} ${line}`)
    used += rows
    printed++
  }
  return { lines: printed, complete: true }
}

function clean(line: string): string {
  // eslint-disable-next-line no-control-regex
  return line.replace(/\t/g, TAB).replace(/[\u0000-\u001f\u007f-\u009f]/g, '�')
}
