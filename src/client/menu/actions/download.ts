import fs from 'node:fs/promises'
import path from 'node:path'
import { displayText, type FileRow } from '../../../protocol/client.js'
import { humanDuration, humanSize, humanSpeed, plural } from '../../cli/render/format.js'
import { createProgress } from '../../cli/render/progress.js'
import { planFolder, type GetItem } from '../../get-plan.js'
import { downloadFile, downloadTarget, getFiles } from '../../transfer.js'
import { entryName, pickEntry, type FolderEntry } from '../pick-entry.js'
import { ask, choose, yesNo } from '../prompts.js'
import type { Session } from '../session.js'
import { note, success } from '../ui.js'
import type { MenuAction } from './action.js'

export const download: MenuAction = {
  id: 'download',
  title: 'Download a file or folder',
  description: 'Save a copy of a file, or of a folder with everything in it, on this computer',
  async run(session) {
    const entry = await pickEntry(session, 'File or folder to download')
    if (entry?.kind === 'file') await downloadRow(session, entry.row)
    else if (entry) await downloadFolder(session, entry)
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

type Clash = 'replace' | 'keep' | 'cancel'

/**
 * Ask where the folder goes (that path becomes the folder, default ./<basename>), ask once for
 * the batch if some of its files exist there, then download them all over the session's
 * connection with one progress bar (bytes, files, speed).
 */
async function downloadFolder(session: Session, folder: FolderEntry): Promise<void> {
  const local = await ask({
    message: `Save the folder (${plural(folder.files.length, 'file')}, ${humanSize(folder.bytes)}) as`,
    default: `./${displayText(path.posix.basename(folder.name))}`,
    validate: (value) => (value.trim() === '' ? 'Give a local folder' : true),
  })
  const plan = planFolder(folder.name, folder.files, local.trim(), session.serverName)
  const existing = await countExisting(plan.items)
  let clash: Clash = 'replace'
  if (existing > 0) {
    const some = existing === plan.items.length ? 'All' : `${existing} of`
    clash = await choose<Clash>({
      message: `${some} ${plural(plan.items.length, 'file')} exist in ${displayText(local.trim())} already`,
      choices: [
        { value: 'replace', name: 'Replace them' },
        { value: 'keep', name: 'Keep them (download only the others)' },
        { value: 'cancel', name: 'Cancel' },
      ],
      default: 'keep',
    })
    if (clash === 'cancel') return note('Nothing downloaded.')
  }
  const progress = createProgress(process.stdout, true, folder.name)
  const started = Date.now()
  try {
    // The session as the link: a lost server moves the batch, file by file (failover).
    const result = await getFiles(session, plan.items, {
      noClobber: clash === 'keep',
      onProgress: (p) =>
        progress.update(p.bytesDone, p.bytesTotal, `${p.filesDone}/${p.filesTotal} ${p.name}`),
    })
    progress.stop()
    const elapsed = Date.now() - started
    const speed = `${humanDuration(elapsed)}, ${humanSpeed(result.bytes, elapsed)}`
    const what = `${plural(result.files.length, 'file')}, ${humanSize(result.bytes)} in ${speed}`
    const kept =
      result.skipped.length > 0 ? `; kept ${plural(result.skipped.length, 'file')} there` : ''
    const out = plan.skipped.length
    const left = out > 0 ? `; left out ${plural(out, 'file')} (see the listing)` : ''
    success(
      `Downloaded ${entryName(folder)} to ${displayText(local.trim())} (${what})${kept}${left}`,
    )
  } finally {
    progress.stop()
  }
}

async function countExisting(items: readonly GetItem[]): Promise<number> {
  const found = await Promise.all(
    items.map((item) =>
      fs.lstat(item.local).then(
        () => true,
        () => false,
      ),
    ),
  )
  return found.filter(Boolean).length
}
