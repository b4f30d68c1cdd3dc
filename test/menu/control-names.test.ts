// The menu in a real terminal (tmux) shows names that hold an escape sequence or a newline
// escaped, in the listing, the file picker, its questions and its messages: the escape codes do
// not colour the screen, and the newline does not split a row. Needs tmux; skipped without it.
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { startServer } from '../helpers/index.js'
import { choose, closeMenus, openMenu } from './menu-driver.js'
import { hasTmux } from './tmux.js'

const TMUX = hasTmux()
const ESC_NAME = 'x\x1b[31mRED\x1b[0m'
const ESC_SHOWN = 'x\\x1b[31mRED\\x1b[0m'
const NL_NAME = 'disk\nnewline'
const NL_SHOWN = 'disk\\nnewline'

afterEach(closeMenus)

describe.skipIf(!TMUX)(`the menu with unservable names${TMUX ? '' : ' (skipped: no tmux)'}`, () => {
  it('shows them escaped in the listing, the picker, its question and its message', async () => {
    const server = await startServer()
    writeFileSync(path.join(server.root, ESC_NAME), 'escape\n')
    writeFileSync(path.join(server.root, NL_NAME), 'newline\n')
    writeFileSync(path.join(server.root, 'plain.txt'), 'ordinary\n')
    const term = await openMenu(server, { cwd: server.root, clientId: 'm' })

    // The listing: sorted by code point, one row each, the names escaped.
    await choose(term, 'List files')
    const listed = await term.waitFor('3 files')
    expect(listed).toMatch(new RegExp(`^0\\s+${escapeRegExp(NL_SHOWN)}\\s+8 B`, 'm'))
    expect(listed).toMatch(/^1\s+plain\.txt\s+9 B/m)
    expect(listed).toMatch(new RegExp(`^2\\s+${escapeRegExp(ESC_SHOWN)}\\s+7 B`, 'm'))
    expect(listed).not.toMatch(/^newline/m)

    // The picker, the question about the picked file, and the message after it.
    await choose(term, 'Delete a file or folder')
    await term.waitFor('? File or folder to delete')
    term.type('RED')
    await term.waitFor(`❯ 2  ${ESC_SHOWN}`)
    term.keys('Enter')
    await term.waitFor(`? Delete ${ESC_SHOWN} (7 B)? This cannot be undone.`)
    term.keys('Enter') // the default: no
    await term.waitFor(`Kept ${ESC_SHOWN}.`)
    expect(term.screen()).not.toMatch(/xRED/)
  }, 90_000)
})

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
