/** The menu's entries, in the order and groups the menu shows them. */
import type { MenuAction } from './action.js'
import { deleteFile } from './delete.js'
import { download } from './download.js'
import { appendFile, createFile, writeFile } from './edit.js'
import { listFiles } from './list.js'
import { lockFileAction, unlockFileAction } from './lock.js'
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
  [lockFileAction, unlockFileAction],
  [changeLog, watchActivity, serverStatus],
]
