/**
 * What `get` will download: remote files and folders (from one listing) turned into (name, local
 * path, size) items, by cp's rules. A file keeps its base name, a folder its own name and its
 * tree, `/` (the root, '' here) its whole tree. Every local path is checked to stay inside the
 * folder it is meant for, whatever names the server sent, before anything is written.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { normalizeName, TandemError, type FileRow } from '../protocol/client.js'

export interface GetItem {
  /** The name on the server, as listed. */
  name: string
  local: string
  /** As listed; the download's own header has the final word. */
  size: number
  /**
   * A folder's file the listing shows only at other servers: asked for all the same (a server
   * that does not hold it names its holders, ERR_MOVED, and the client follows), but when the
   * server does not know it yet (ERR_NOT_FOUND: mirroring has not caught up) it is skipped.
   */
  notHere?: true
}

export interface GetPlan {
  items: GetItem[]
  /** Rows of a folder left out, with why: symbolic links on the server's disk (never mirrored). */
  skipped: { name: string; path: string; reason: string }[]
  bytes: number
  /** A folder to create first (several sources into a folder that does not exist yet). */
  makeFolder?: string
}

/** A remote source: one file, or a folder ('' for the root) with the listed files under it. */
export type RemoteSource =
  | { kind: 'file'; name: string; size: number }
  | {
      kind: 'folder'
      name: string
      files: FileRow[]
      /** The connected server's name: files the listing shows only at other servers are skipped. */
      here?: string
    }

/**
 * The source `name` ('' for the root) in the listing; ERR_NOT_FOUND when it is neither. `here`
 * is the name of the server the files will come from (see RemoteSource).
 */
export function findSource(rows: readonly FileRow[], name: string, here?: string): RemoteSource {
  const file = rows.find((row) => row.name === name)
  if (file && name !== '') return { kind: 'file', name, size: file.size }
  const prefix = name === '' ? '' : `${name}/`
  const files = rows.filter((row) => row.name.startsWith(prefix))
  if (files.length > 0 || name === '') return { kind: 'folder', name, files, here }
  throw new TandemError('ERR_NOT_FOUND', `no file or folder '${name}' on the server`)
}

/**
 * Where `relative` (a name below a folder, as the server sent it) lands under `root`. Refused
 * with ERR_BAD_PATH when it could leave `root`: `..`, an absolute path, a backslash, a NUL.
 */
export function localPathFor(root: string, relative: string): string {
  let clean: string
  try {
    clean = normalizeName(relative)
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err)
    throw new TandemError('ERR_BAD_PATH', `the server listed '${relative}': ${reason}`)
  }
  const local = path.join(root, ...clean.split('/'))
  // Belt and braces: whatever the platform makes of the segments, the result stays below root.
  const back = path.relative(path.resolve(root), path.resolve(local))
  if (back === '' || back.startsWith('..') || path.isAbsolute(back)) {
    throw new TandemError('ERR_BAD_PATH', `the server listed '${relative}', outside '${root}'`)
  }
  return local
}

/**
 * The plan for `get SOURCES [DEST]`. With no DEST the sources go here. With one source, DEST is
 * its new local name, unless it ends in `/` or is an existing local folder: then the source goes
 * inside. With several, DEST is a folder (made if missing).
 */
export async function planGet(
  sources: readonly RemoteSource[],
  dest: string | undefined,
): Promise<GetPlan> {
  const plan: GetPlan = { items: [], skipped: [], bytes: 0 }
  const [only] = sources
  if (dest === undefined) {
    for (const source of sources) add(plan, source, inside('.', source))
  } else if (sources.length === 1 && only && !(await isFolderTarget(dest))) {
    add(plan, only, dest)
  } else {
    if (sources.length > 1 && !(await isFolder(dest))) plan.makeFolder = dest
    for (const source of sources) add(plan, source, inside(dest, source))
  }
  checkUnique(plan.items)
  plan.bytes = plan.items.reduce((sum, item) => sum + item.size, 0)
  return plan
}

/** Where a source goes inside the local folder `dir`: under its base name (the root: in dir). */
function inside(dir: string, source: RemoteSource): string {
  return source.name === '' ? dir : path.join(dir, path.posix.basename(source.name))
}

/** Add `source` as `local`: the file itself, or the folder's tree below `local`. */
function add(plan: GetPlan, source: RemoteSource, local: string): void {
  if (source.kind === 'file') {
    plan.items.push({ name: source.name, local, size: source.size })
    return
  }
  const prefix = source.name === '' ? 0 : source.name.length + 1
  for (const row of source.files) {
    const item = {
      name: row.name,
      local: localPathFor(local, row.name.slice(prefix)),
      size: row.size,
    }
    // The listing may show a server's symbolic links as rows of their own: they have no content
    // to download, and are left out as put leaves out links to folders.
    if (isSymlink(row)) plan.skipped.push({ name: row.name, path: item.local, reason: 'symlink' })
    // Listed from a peer but not (or no longer) at this server: held elsewhere (partial
    // replication: the server sends the client on), or mirroring has not caught up (then it is
    // skipped, not failing the batch halfway, to be fetched again later).
    else if (source.here !== undefined && !row.servers.includes(source.here))
      plan.items.push({ ...item, notHere: true })
    else plan.items.push(item)
  }
}

function isSymlink(row: FileRow): boolean {
  return (row as { kind?: string }).kind === 'symlink'
}

async function isFolder(local: string): Promise<boolean> {
  const stat = await fs.stat(local).catch(() => undefined)
  return stat?.isDirectory() === true
}

async function isFolderTarget(dest: string): Promise<boolean> {
  return dest.endsWith('/') || dest.endsWith(path.sep) || (await isFolder(dest))
}

/** Two files to one local path, or a file where another needs a folder: refused up front. */
function checkUnique(items: readonly GetItem[]): void {
  const files = new Map<string, string>()
  const folders = new Map<string, string>()
  for (const item of items) {
    const local = path.resolve(item.local)
    const other = files.get(local) ?? folders.get(local)
    if (other !== undefined) {
      throw new TandemError(
        'ERR_EXISTS',
        `'${other}' and '${item.name}' would both be written to '${item.local}'`,
      )
    }
    files.set(local, item.name)
    for (let dir = path.dirname(local); dir !== path.dirname(dir); dir = path.dirname(dir)) {
      const clash = files.get(dir)
      if (clash !== undefined) {
        throw new TandemError(
          'ERR_EXISTS',
          `'${clash}' would be a file where '${item.name}' needs a folder`,
        )
      }
      folders.set(dir, item.name)
    }
  }
}

/** The folder `name`'s files as a tree below `local` itself (the menu's "save it as"). */
export function planFolder(
  name: string,
  files: readonly FileRow[],
  local: string,
  here?: string,
): GetPlan {
  const plan: GetPlan = { items: [], skipped: [], bytes: 0 }
  add(plan, { kind: 'folder', name, files: [...files], here }, local)
  checkUnique(plan.items)
  plan.bytes = plan.items.reduce((sum, item) => sum + item.size, 0)
  return plan
}
