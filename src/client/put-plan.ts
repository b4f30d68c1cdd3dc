/**
 * What `put` will upload: local files and folders turned into (local path, stored name, size,
 * mtime) items. A file keeps its base name (or the name asked for); a folder keeps its own name
 * and its files' relative paths: put ./photos → photos/a.jpg, photos/2026/b.jpg. Every name is
 * checked before anything is sent, so a batch does not fail halfway on a name the server refuses.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { normalizeName, TandemError } from '../protocol/client.js'
import { localError } from './local-errors.js'

export interface PutItem {
  local: string
  name: string
  size: number
  /** ms since the epoch */
  mtime: number
}

export interface PutPlan {
  items: PutItem[]
  /** Entries left out, with why: symlinks to folders (loops), sockets, devices, fifos. */
  skipped: { local: string; reason: string }[]
  bytes: number
}

export interface PlanOptions {
  /** With one local path: the stored name of that file, or of that folder. */
  as?: string
  /** The server folder the sources go inside ('' for the served root); unused with `as`. */
  into?: string
}

export async function planPut(
  locals: readonly string[],
  options: PlanOptions = {},
): Promise<PutPlan> {
  if (options.as !== undefined && locals.length !== 1) {
    throw new TypeError('a target name can only be given for a single file or folder')
  }
  const plan: PutPlan = { items: [], skipped: [], bytes: 0 }
  for (const local of locals) {
    const stat = await fs.stat(local).catch((err: unknown) => {
      throw localError(err, local)
    })
    const inside = (base: string) => (options.into ? `${options.into}/${base}` : base)
    if (stat.isDirectory()) {
      await walk(local, options.as ?? inside(path.basename(path.resolve(local))), plan)
    } else if (stat.isFile()) {
      addItem(plan, local, options.as ?? inside(path.basename(local)), stat)
    } else {
      throw new TandemError('ERR_BAD_PATH', `'${local}' is not a regular file or folder`)
    }
  }
  checkUnique(plan.items)
  plan.bytes = plan.items.reduce((sum, item) => sum + item.size, 0)
  return plan
}

async function walk(dir: string, prefix: string, plan: PutPlan): Promise<void> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch((err: unknown) => {
    throw localError(err, dir)
  })
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  for (const entry of entries) {
    const local = path.join(dir, entry.name)
    const name = prefix === '' ? entry.name : `${prefix}/${entry.name}`
    if (entry.isDirectory()) {
      await walk(local, name, plan)
      continue
    }
    // Symlinks to files are followed; symlinks to folders are not (they can loop).
    const stat = await fs.stat(local).catch(() => undefined)
    if (stat?.isFile()) addItem(plan, local, name, stat)
    else if (entry.isSymbolicLink())
      plan.skipped.push({ local, reason: stat ? 'symlink to a folder' : 'broken symlink' })
    else plan.skipped.push({ local, reason: 'not a regular file' })
  }
}

function addItem(
  plan: PutPlan,
  local: string,
  name: string,
  stat: { size: number; mtimeMs: number },
): void {
  let stored: string
  try {
    stored = normalizeName(name.split(path.sep).join('/'))
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err)
    throw new TandemError('ERR_BAD_PATH', `'${local}' cannot be stored as '${name}': ${reason}`)
  }
  plan.items.push({ local, name: stored, size: stat.size, mtime: stat.mtimeMs })
}

function checkUnique(items: readonly PutItem[]): void {
  const seen = new Map<string, string>()
  for (const item of items) {
    const other = seen.get(item.name)
    if (other !== undefined) {
      throw new TandemError(
        'ERR_EXISTS',
        `'${other}' and '${item.local}' would both be stored as '${item.name}'`,
      )
    }
    seen.set(item.name, item.local)
  }
}

/** A remote destination as typed: the served root, a folder to go inside, or a name. */
export type RemoteDestination =
  { kind: 'root' } | { kind: 'folder'; name: string } | { kind: 'name'; name: string }

/**
 * How `put`/`mv` read their last argument, before anything is sent: `/` (or `.`) is the served root, a
 * trailing `/` means inside that folder, anything else is a name. A name that could leave the
 * served root (`..`, an absolute path, a backslash, control characters) is ERR_BAD_PATH; what
 * exists on the local disk plays no part.
 */
export function readRemoteDestination(argument: string): RemoteDestination {
  const parts = argument.split('/')
  if (argument !== '' && parts.every((s) => s === '' || s === '.')) return { kind: 'root' }
  let name: string
  try {
    name = normalizeName(argument)
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err)
    throw new TandemError('ERR_BAD_PATH', `'${argument}' is not a name on the server: ${reason}`)
  }
  return argument.endsWith('/') ? { kind: 'folder', name } : { kind: 'name', name }
}
