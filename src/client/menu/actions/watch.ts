import { displayText, type LogEntry, type TandemError } from '../../../protocol/client.js'
import { waitForKey } from '../key-press.js'
import { logLine } from '../tables.js'
import { bold, dim, note, say, waitWith } from '../ui.js'
import type { MenuAction } from './action.js'

const RECENT = 10
const LIVE_TARGET_WIDTH = 30 // later names are not known yet: a fixed column

export const watchActivity: MenuAction = {
  id: 'watch',
  title: 'Watch activity',
  description: 'Follow the change log live, as things happen, until a key is pressed',
  endsWithKey: true,
  async run(session) {
    // Its own connection: one that follows the log stays busy until it is closed.
    const conn = await session.extraConnection()
    const closed = new Promise<TandemError | undefined>((resolve) => conn.onClose(resolve))
    let lastSeq = -1
    let ready = false
    const early: LogEntry[] = []
    const show = (entry: LogEntry): void => {
      if (entry.seq <= lastSeq) return // already shown with the recent entries
      lastSeq = entry.seq
      say(logLine(entry, LIVE_TARGET_WIDTH))
    }
    const onEvent = (entry: LogEntry): void => (ready ? show(entry) : void early.push(entry))
    try {
      const following = conn.follow(onEvent, { limit: RECENT })
      const { entries } = await waitWith('Starting to follow the change log…', following)
      const name = displayText(conn.server.name)
      say(
        `${bold(`Watching server ${name} live`)} ${dim('· press any key to go back to the menu')}`,
      )
      for (const entry of [...entries, ...early]) show(entry)
      if (lastSeq === -1) note('No changes yet; new ones will appear here.')
      ready = true
      const key = waitForKey()
      const ended = await Promise.race([key.pressed.then(() => 'key' as const), closed])
      key.stop()
      if (ended !== 'key' && ended !== undefined) throw ended
    } finally {
      conn.destroy()
    }
  },
}
