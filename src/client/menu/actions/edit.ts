import { displayText } from '../../../protocol/client.js'
import { humanSize } from '../../cli/render/format.js'
import { fetchStart } from '../fetch-text.js'
import { checkName, storedName } from '../name-check.js'
import { fetchListing, pickFile } from '../pick-file.js'
import { ask, yesNo } from '../prompts.js'
import { enterText } from '../text-entry.js'
import { note, success, waitWith } from '../ui.js'
import type { MenuAction } from './action.js'

const EDITABLE_BYTES = 1024 * 1024 // a replace in $EDITOR starts from the content up to this size

export const createFile: MenuAction = {
  id: 'create',
  title: 'Create a new file',
  description: 'Make a new file from text typed here; an existing name is refused',
  async run(session) {
    const taken = new Set((await fetchListing(session)).map((row) => row.name))
    const answer = await ask({
      message: 'Name of the new file',
      validate: (value) => {
        const valid = checkName(value)
        if (valid !== true) return valid
        return taken.has(storedName(value)) ? 'A file with that name already exists' : true
      },
    })
    const name = storedName(answer)
    const text = await enterText({ what: 'the text' })
    const saving = session.run((conn, rid) => conn.create(name, Buffer.from(text, 'utf8'), { rid }))
    const result = await waitWith(`Creating ${name}…`, saving)
    success(`Created ${displayText(result.name)} (${humanSize(result.size)})`)
  },
}

export const writeFile: MenuAction = {
  id: 'write',
  title: "Replace a file's content",
  description: 'Give a file new text, in place of all it holds now',
  async run(session) {
    const row = await pickFile(session, 'File whose content to replace')
    if (!row) return
    // For $EDITOR only: start from the current text when it is text and not too big.
    const initial = async () => {
      const start = await fetchStart(session, row, EDITABLE_BYTES)
      return start.truncated ? undefined : start.text
    }
    const text = await enterText({ what: 'the new text', initial })
    if (text === '' && !(await yesNo(`Make ${displayText(row.name)} empty?`, false))) {
      return note('Nothing changed.')
    }
    const saving = session.run((conn, rid) =>
      conn.write(row.name, Buffer.from(text, 'utf8'), { rid }),
    )
    const result = await waitWith(`Saving ${row.name}…`, saving)
    success(`Replaced the content of ${displayText(result.name)} (now ${humanSize(result.size)})`)
  },
}

export const appendFile: MenuAction = {
  id: 'append',
  title: 'Append to a file',
  description: 'Add text typed here to the end of a file',
  async run(session) {
    const row = await pickFile(session, 'File to append to')
    if (!row) return
    const text = await enterText({ what: 'the text to add' })
    if (text === '') return note('Nothing to append.')
    const body = Buffer.from(text, 'utf8')
    const saving = session.run((conn, rid) => conn.append(row.name, body, { rid }))
    const result = await waitWith(`Appending to ${row.name}…`, saving)
    const now = `now ${humanSize(result.size)}`
    success(`Appended ${humanSize(body.length)} to ${displayText(result.name)} (${now})`)
  },
}
