import fs from 'node:fs/promises'
import path from 'node:path'
import { displayText } from '../../../protocol/client.js'
import { humanDuration, humanSize, humanSpeed, localTime, plural } from '../../cli/render/format.js'
import { createProgress } from '../../cli/render/progress.js'
import { planPut, putFiles, type PutPlan } from '../../transfer.js'
import { checkName, storedName } from '../name-check.js'
import { fetchListing } from '../pick-file.js'
import { pickLocal } from '../pick-local.js'
import { ask, yesNo } from '../prompts.js'
import type { Session } from '../session.js'
import { note, success, waitWith, warn } from '../ui.js'
import type { MenuAction } from './action.js'

export const upload: MenuAction = {
  id: 'upload',
  title: 'Upload a file or folder',
  description: 'Send a local file, or a folder with everything in it, to the server',
  async run(session) {
    const local = await pickLocal('Local file or folder to upload')
    const folder = (await fs.stat(local)).isDirectory()
    const as = await ask({
      message: folder ? 'Store the folder on the server as' : 'Store it on the server as',
      default: path.basename(path.resolve(local)),
      validate: checkName,
    })
    const reading = folder ? 'Reading the folder…' : 'Reading the file…'
    const plan = await waitWith(reading, planPut([local], { as: storedName(as) }))
    for (const skip of plan.skipped)
      warn(`skipping ${displayText(skip.local)}: ${displayText(skip.reason)}`)
    if (plan.items.length === 0) return note('There is nothing to upload in that folder.')
    if (!(await confirmReplacing(session, plan))) return note('Nothing uploaded.')
    await send(session, plan)
  },
}

/** Uploading replaces files of the same name: say which, and let the person decide (default no). */
async function confirmReplacing(session: Session, plan: PutPlan): Promise<boolean> {
  const existing = new Map((await fetchListing(session)).map((row) => [row.name, row]))
  const replaced = plan.items.filter((item) => existing.has(item.name))
  const [first] = replaced
  if (!first) return true
  const row = existing.get(first.name)!
  const message =
    plan.items.length === 1
      ? `'${displayText(row.name)}' is already on the server (${humanSize(row.size)}, modified ${localTime(row.mtime)}). Replace it?`
      : `${plural(replaced.length, 'file')} of ${plan.items.length} already exist on the server. Replace them?`
  return yesNo(message, false)
}

async function send(session: Session, plan: PutPlan): Promise<void> {
  const single = plan.items.length === 1
  const progress = createProgress(process.stdout, true, 'uploading')
  const started = Date.now()
  try {
    // The session as the link: a lost server moves the batch, file by file (failover).
    const result = await putFiles(session, plan.items, {
      onProgress: (p) => {
        const label = single ? p.name : `${p.filesDone}/${p.filesTotal} ${p.name}`
        progress.update(p.bytesDone, p.bytesTotal, label)
      },
    })
    progress.stop()
    const elapsed = Date.now() - started
    const speed = `${humanDuration(elapsed)}, ${humanSpeed(result.bytes, elapsed)}`
    const [only] = result.files
    if (single && only) {
      const what = `${displayText(only.local)} as ${displayText(only.name)}`
      success(`Uploaded ${what} (${humanSize(only.size)} in ${speed})`)
    } else {
      const count = plural(result.files.length, 'file')
      success(`Uploaded ${count} (${humanSize(result.bytes)} in ${speed})`)
    }
  } finally {
    progress.stop()
  }
}
