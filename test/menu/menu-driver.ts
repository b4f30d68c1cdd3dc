/**
 * Driving the menu in a real terminal as a person does: open it in tmux against a server (with a
 * fresh config and none of the caller's tandem variables), and choose entries by typing.
 */
import { TANDEM_BIN, tempDir, type ServerHandle } from '../helpers/index.js'
import { Terminal, shellQuote } from './tmux.js'

/** The menu's question, on screen whenever it waits for a choice. */
export const MENU = '? What would you like to do?'

const open = new Set<Terminal>()

/** Open the menu in a fresh terminal, in `cwd`, talking to `server` as `clientId`. */
export async function openMenu(
  server: ServerHandle,
  options: { cwd: string; clientId: string },
): Promise<Terminal> {
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: tempDir('tandem-menu-config-') }
  for (const name of ['TANDEM_SERVER', 'TANDEM_CLIENT_ID', 'EDITOR', 'VISUAL', 'TMUX'])
    delete env[name]
  const command = [
    process.execPath,
    TANDEM_BIN,
    '--server',
    server.address,
    '--client-id',
    options.clientId,
  ]
  const terminal = Terminal.start({
    command: command.map(shellQuote).join(' '),
    cwd: options.cwd,
    env,
  })
  open.add(terminal)
  await terminal.waitFor(MENU)
  return terminal
}

/** Kill every terminal opened here (servers and temp dirs are cleaned by the helpers). */
export function closeMenus(): void {
  for (const terminal of open) terminal.kill()
  open.clear()
}

/** Choose a menu entry by typing the start of its title, as a person may. */
export async function choose(term: Terminal, title: string): Promise<void> {
  await term.waitFor(MENU)
  term.type(title.slice(0, 6).toLowerCase())
  await term.waitFor(`❯ ${title}`)
  term.keys('Enter')
}
