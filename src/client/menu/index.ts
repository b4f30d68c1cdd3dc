/**
 * The interactive menu (`tandem` with no command, on a terminal): the only client code that talks
 * to a person. It owns the loop (choose an action, run it, show its result or one friendly error
 * line, come back), the connection that outlives idle timeouts (session.ts), and one file per
 * action (actions/). It uses the connection and transfer library for all protocol work.
 *
 * Keys: in the menu, Ctrl+C (or the end of input) leaves; inside an action, Esc or Ctrl+C at a
 * prompt goes back to the menu, and Ctrl+C while waiting on the network stops the transfer.
 */
import { Separator } from '@inquirer/prompts'
import { displayText } from '../../protocol/client.js'
import { ACTION_GROUPS, type MenuAction } from './actions/index.js'
import { pressAnyKey } from './key-press.js'
import { choose } from './prompts.js'
import { interruptAgain } from '../signals.js'
import { Session } from './session.js'
import { bold, cyan, dim, isPromptExit, note, say, showError, takeLineCount } from './ui.js'

const EXIT = 'exit'

export interface MenuOptions {
  /** Server address list, "HOST:PORT[,HOST:PORT...]": the first that answers is used. */
  server: string
  clientId: string
  /** How long to wait for a busy server when connecting, in seconds (default 30). */
  waitSeconds?: number
}

/** Run the menu until the person leaves; returns the exit status. */
export async function runMenu(options: MenuOptions): Promise<number> {
  const session = new Session(options.server, options.clientId, options.waitSeconds)
  try {
    await session.connection().catch((err: unknown) => {
      showError(err)
      note('Not connected yet: the menu tries again at the next action.')
    })
    await loop(session)
    say(dim('Bye.'))
    return 0
  } finally {
    await session.close()
  }
}

async function loop(session: Session): Promise<void> {
  const actions = new Map(ACTION_GROUPS.flat().map((action) => [action.id, action]))
  const choices = menuChoices()
  let last = ACTION_GROUPS[0]?.[0]?.id ?? EXIT
  let shownHeader = ''
  for (;;) {
    shownHeader = showHeader(session, shownHeader)
    const action = actions.get(await chooseAction(choices, last))
    if (!action) return
    last = action.id
    takeLineCount()
    await runAction(session, action)
    // Output taller than what the menu leaves visible waits to be read.
    const menuHeight = choices.length + 4
    if (!action.endsWithKey && takeLineCount() + menuHeight > (process.stdout.rows ?? 24)) {
      await pressAnyKey('Press any key to go back to the menu…')
    }
    say()
  }
}

/** The header line, again only when it changed (connected at last, or to another server). */
function showHeader(session: Session, shown: string): string {
  const current = header(session)
  if (current === shown) return shown
  say(`\n${current}`)
  if (shown === '')
    note('Choose with ↑↓ and Enter. In an action, Esc goes back; Ctrl+C here leaves.')
  say()
  return current
}

/** The id of the chosen action, or EXIT (also when the person leaves with Ctrl+C). */
async function chooseAction(choices: MenuChoice[], last: string): Promise<string> {
  const message = 'What would you like to do?'
  const config = { message, choices, default: last, pageSize: choices.length, loop: false }
  try {
    return await choose(config, { escape: false })
  } catch (err) {
    if (isPromptExit(err)) return EXIT
    throw err
  }
}

function header(session: Session): string {
  const address = displayText(session.address)
  const where = session.serverName
    ? `server ${bold(displayText(session.serverName))} at ${address}`
    : `server ${address} ${dim('(not connected)')}`
  return `${bold(cyan('tandem'))}  ${where}  ·  client ${bold(displayText(session.clientId))}`
}

type MenuChoice = Separator | { value: string; name: string; description: string }

function menuChoices(): MenuChoice[] {
  const choices: MenuChoice[] = []
  for (const group of ACTION_GROUPS) {
    for (const { id, title, description } of group)
      choices.push({ value: id, name: title, description })
    choices.push(new Separator())
  }
  choices.push({ value: EXIT, name: 'Exit', description: 'Leave the menu' })
  return choices
}

/** Run one action; whatever goes wrong becomes one line, and the menu comes back. */
async function runAction(session: Session, action: MenuAction): Promise<void> {
  let interrupts = 0
  const onInterrupt = (): void => {
    if (++interrupts > 1) return interruptAgain(onInterrupt)
    session.interrupt()
  }
  // Outside prompts, Ctrl+C is a signal: it stops the network wait instead of the whole menu.
  process.on('SIGINT', onInterrupt)
  try {
    await action.run(session)
  } catch (err) {
    if (isPromptExit(err)) note('Cancelled.')
    else if (interrupts > 0) note('Stopped (Ctrl+C).')
    else showError(err)
  } finally {
    process.off('SIGINT', onInterrupt)
    session.clearInterrupt()
  }
}
