/** The menu's entries, in the order and groups the menu shows them. */
import type { MenuAction } from './action.js'
import { deleteFile } from './delete.js'
import { download } from './download.js'
import { appendFile, createFile, writeFile } from './edit.js'
import { listFiles } from './list.js'
import { changeLog } from './log.js'
import { renameFile } from './rename.js'
import { showFile } from './show.js'
import { serverStatus } from './status.js'
import { upload } from './upload.js'
import { watchActivity } from './watch.js'

export type { MenuAction } from './action.js'

export const ACTION_GROUPS: readonly (readonly MenuAction[])[] = [
  [listFiles, upload, download, showFile],
  [createFile, writeFile, appendFile, renameFile, deleteFile],
  // TODO(user locks): "Lock a file" and "Unlock a file" go here once the server supports the
  // lock and unlock operations (DESIGN.md §6): pick a file, ask an optional time-to-live (lock)
  // or whether to force (unlock, when the lock is someone else's), then call the operation.
  // Today's server answers them with ERR_UNKNOWN_OPERATION, so the menu does not offer them.
  [changeLog, watchActivity, serverStatus],
]
