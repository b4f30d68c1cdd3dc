import fs from 'node:fs/promises'
import path from 'node:path'
import { displayText, type FileRow } from '../../../protocol/index.js'
import { humanDuration, humanSize, humanSpeed } from '../../cli/render/format.js'
import { createProgress } from '../../cli/render/progress.js'
import { downloadFile, downloadTarget } from '../../transfer.js'
import { pickFile } from '../pick-file.js'
import { ask, yesNo } from '../prompts.js'
import type { Session } from '../session.js'
import { note, success } from '../ui.js'
import type { MenuAction } from './action.js'

export const download: MenuAction = {
  id: 'download',
  title: 'Download a file',
  description: 'Save a copy of a file from the server on this computer',
  async run(session) {
    const row = await pickFile(session, 'File to download')
    if (row) await downloadRow(session, row)
  },
}

/** Ask where to save `row` (default ./<basename>), then download it with a progress bar. */
export async function downloadRow(session: Session, row: FileRow): Promise<void> {
  const local = await ask({
    message: 'Save it as',
    default: `./${displayText(path.posix.basename(row.name))}`,
    validate: (value) => (value.trim() === '' ? 'Give a local path' : true),
  })
  const target = await downloadTarget(row.name, local.trim())
  const exists = await fs.stat(target).then(
    () => true,
    () => false,
  )
  if (exists && !(await yesNo(`${displayText(target)} already exists. Replace it?`, false))) {
    return note('Nothing downloaded.')
  }
  const progress = createProgress(process.stdout, true, row.name)
  const started = Date.now()
  try {
    const result = await session.run(
      (conn) =>
        downloadFile(conn, row.name, target, {
          onProgress: (done, total) => progress.update(done, total ?? done),
        }),
      { readOnly: true },
    )
    progress.stop()
    const elapsed = Date.now() - started
    const speed = `${humanDuration(elapsed)}, ${humanSpeed(result.size, elapsed)}`
    const where = `${displayText(result.name)} to ${displayText(result.path)}`
    success(`Downloaded ${where} (${humanSize(result.size)} in ${speed})`)
  } finally {
    progress.stop()
  }
}
