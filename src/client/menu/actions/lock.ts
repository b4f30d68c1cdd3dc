import { displayText, type FileRow, type UserLock } from '../../../protocol/client.js'
import { plural } from '../../cli/render/format.js'
import { lockEnd, renderUnlocked } from '../../cli/render/locks.js'
import { lockFile, unlockFile } from '../../user-locks.js'
import { fetchListing, pickFile } from '../pick-file.js'
import { ask, yesNo } from '../prompts.js'
import type { Session } from '../session.js'
import { parseTimeToLive } from '../time-to-live.js'
import { note, success, waitWith, warn } from '../ui.js'
import type { MenuAction } from './action.js'

export const lockFileAction: MenuAction = {
  id: 'lock',
  title: 'Lock a file',
  description: "Hold a file still at this server; the other servers' changes wait until unlock",
  async run(session) {
    const row = await pickFile(session, 'File to lock')
    if (!row) return
    const here = session.serverName
    const held = lockAt(row, here)
    if (held && held.owner !== session.clientId) {
      const by = `${displayText(held.server)} by ${displayText(held.owner)}`
      return warn(`${displayText(row.name)} is already locked at ${by}.`)
    }
    const answer = await ask({
      message: 'Time to live (90s, 10m, 2h; empty: until unlocked)',
      validate: (value) => {
        const parsed = parseTimeToLive(value)
        return typeof parsed === 'string' ? parsed : true
      },
    })
    const ttl = parseTimeToLive(answer)
    const ttlSeconds = typeof ttl === 'string' ? undefined : ttl.seconds
    // The index with the name it showed: the server refuses if the listing has moved since.
    const target = { index: row.index, expect: row.name }
    const locking = session.run((conn, rid) => lockFile(conn, target, { ttlSeconds, rid }))
    const lock = await waitWith(`Locking ${row.name}…`, locking)
    const where = `${displayText(lock.name)} at ${displayText(lock.server)}`
    success(`🔒 Locked ${where} (${lockEnd(lock.expiresAt)})`)
  },
}

export const unlockFileAction: MenuAction = {
  id: 'unlock',
  title: 'Unlock a file',
  description: 'Release a lock held at this server; the changes queued meanwhile are applied',
  async run(session) {
    const rows = await fetchListing(session)
    const here = session.serverName
    const lockedHere = rows.filter((row) => lockAt(row, here) !== undefined)
    if (lockedHere.length === 0) return noLockHere(rows, here)
    const row = await pickFile(session, 'File to unlock', { rows: lockedHere })
    if (!row) return
    const lock = lockAt(row, here)!
    const force = lock.owner !== session.clientId
    const name = displayText(row.name)
    const question = `${name} is locked by ${displayText(lock.owner)}. Force the unlock?`
    if (force && !(await yesNo(question, false))) return note(`Left ${name} locked.`)
    await unlock(session, row, lock, force)
  },
}

async function unlock(session: Session, row: FileRow, lock: UserLock, force: boolean) {
  const applying = lock.queued > 0 ? ` and applying ${plural(lock.queued, 'queued update')}` : ''
  const target = { index: row.index, expect: row.name }
  const unlocking = session.run((conn, rid) => unlockFile(conn, target, { force, rid }))
  const result = await waitWith(`Unlocking ${row.name}${applying}…`, unlocking)
  const line = renderUnlocked(result, lock.server)
  success(`${line.charAt(0).toUpperCase()}${line.slice(1)}`)
}

/** The lock on `row` held at the server the menu talks to. */
function lockAt(row: FileRow, server: string | undefined): UserLock | undefined {
  return row.locks.find((lock) => lock.server === server)
}

function noLockHere(rows: readonly FileRow[], here: string | undefined): void {
  const elsewhere = rows.filter((row) => row.locked).length
  if (elsewhere === 0) return note('No file is locked.')
  note(
    `No file is locked at server ${displayText(here ?? '?')}; ${plural(elsewhere, 'file')} ${elsewhere === 1 ? 'is' : 'are'} locked at other servers (unlock ${elsewhere === 1 ? 'it' : 'them'} there).`,
  )
}
