/**
 * Files between the local disk and a server, over one Connection: upload one file (with its local
 * size and mtime), download one atomically (temp name beside the target, fsync, rename), and put
 * or get several files or whole folders pipelined, with progress for the whole batch. Returns data and
 * never prints. Local file-system failures become TandemErrors with the catalogue's codes.
 */
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { Limits, TandemError, type WriteResult } from '../protocol/client.js'
import type { Connection, DownloadOptions, DownloadResult, Progress } from './connection.js'
import { asLink, type Link } from './link.js'
import { FileBody } from './file-body.js'
import { localError } from './local-errors.js'
import { SMALL_DOWNLOAD_BYTES, SmallFileSink } from './small-file-sink.js'
import { SyncBehind } from './sync-behind.js'
import type { GetItem } from './get-plan.js'
import type { PutItem } from './put-plan.js'

export { localError } from './local-errors.js'
export { planPut, type PutItem, type PutPlan, type PlanOptions } from './put-plan.js'
export { planGet, type GetItem, type GetPlan } from './get-plan.js'

/** Upload one local file as `name`, with the file's size and mtime. */
export async function uploadFile(
  conn: Connection,
  localPath: string,
  name: string,
  options: { onProgress?: Progress } = {},
): Promise<WriteResult> {
  const stat = await fs.stat(localPath).catch((err: unknown) => {
    throw localError(err, localPath)
  })
  if (!stat.isFile()) {
    throw new TandemError('ERR_IS_DIRECTORY', `'${localPath}' is not a regular file`)
  }
  return uploadItem(conn, { local: localPath, name, size: stat.size, mtime: stat.mtimeMs }, options)
}

function uploadItem(
  conn: Connection,
  item: PutItem,
  options: { onProgress?: Progress; rid?: string },
): Promise<WriteResult> {
  // Opened only when this body's turn on the wire comes, so a long queue holds one file open.
  const open = () => new FileBody(item.local, item.size)
  const request = { size: item.size, mtime: item.mtime, ...options }
  return conn.upload(item.name, open, request).catch((err: unknown) => {
    throw localError(err, item.local)
  })
}

export interface DownloadFileOptions {
  onProgress?: Progress
  /** Called once the server has answered, with the file's actual size and mtime. */
  onHeader?: DownloadOptions['onHeader']
  /**
   * Never replace an existing `localPath`: the finished file is hard-linked into place, which
   * fails if something is there (then ERR_EXISTS, and the temp file is removed).
   */
  noClobber?: boolean
  /**
   * The size the file was planned at (a listing's): up to SMALL_DOWNLOAD_BYTES, the temp file is
   * written with synchronous calls (small-file-sink.ts). Any size still arrives whole.
   */
  plannedSize?: number
}

/**
 * Download `name` to `localPath` atomically: the bytes go to a temporary file beside the target,
 * which is fsynced, given the server's mtime and renamed over the target only once the SHA-256
 * checked out. On any failure the temporary file is removed and the target is untouched. With
 * `noClobber` an existing target is kept: ERR_EXISTS.
 */
export async function downloadFile(
  conn: Connection,
  name: string,
  localPath: string,
  options: DownloadFileOptions = {},
): Promise<DownloadResult & { path: string }> {
  const dir = path.dirname(localPath)
  const temp = path.join(
    dir,
    `.${path.basename(localPath)}.tandem-part-${randomBytes(4).toString('hex')}`,
  )
  if (options.plannedSize !== undefined && options.plannedSize <= SMALL_DOWNLOAD_BYTES)
    return downloadSmall(conn, name, localPath, temp, options)
  const sink = createWriteStream(temp, {
    flags: 'wx',
    mode: 0o666,
    highWaterMark: Limits.dataChunk,
  })
  let behind: SyncBehind | undefined
  try {
    await once(sink, 'open')
    const flusher = (behind = await SyncBehind.open(temp))
    const { onHeader } = options
    const onProgress: Progress = (done, total) => {
      flusher.progress(done)
      options.onProgress?.(done, total)
    }
    const result = await conn.download(name, sink, { onProgress, onHeader })
    if (!sink.closed) await once(sink, 'close')
    behind = undefined
    await flusher.seal(result.mtime)
    return await publish(temp, localPath, result, options)
  } catch (err) {
    // A write still in flight may fail once the stream is destroyed: that is expected here.
    sink.on('error', () => {})
    sink.destroy()
    if (!sink.closed) await new Promise<void>((resolve) => sink.once('close', () => resolve()))
    await behind?.close()
    await fs.rm(temp, { force: true })
    throw localError(err, localPath)
  }
}

/** downloadFile's path for a small file: the temp file written synchronously, fsynced in the pool. */
async function downloadSmall(
  conn: Connection,
  name: string,
  localPath: string,
  temp: string,
  options: DownloadFileOptions,
): Promise<DownloadResult & { path: string }> {
  let sink: SmallFileSink | undefined
  try {
    sink = new SmallFileSink(temp)
    const { onHeader, onProgress } = options
    const result = await conn.download(name, sink, { onProgress, onHeader, end: false })
    await sink.seal(result.mtime)
    return await publish(temp, localPath, result, options)
  } catch (err) {
    sink?.destroy()
    await fs.rm(temp, { force: true })
    throw localError(err, localPath)
  }
}

/** The checked, synced temp file takes the target's name; then the folder is synced. */
async function publish(
  temp: string,
  localPath: string,
  result: DownloadResult,
  options: DownloadFileOptions,
): Promise<DownloadResult & { path: string }> {
  if (options.noClobber) await linkNoClobber(temp, localPath)
  else await fs.rename(temp, localPath)
  await syncDirectory(path.dirname(localPath))
  return { ...result, path: localPath }
}

/**
 * Put `temp` at `target` unless something is there: link(2) refuses an existing target, so
 * there is no window between a check and the rename. File systems without hard links get the
 * check and the rename.
 */
async function linkNoClobber(temp: string, target: string): Promise<void> {
  try {
    await fs.link(temp, target)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST') throw noClobberError(target)
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err
    if (await exists(target)) throw noClobberError(target)
    await fs.rename(temp, target)
    return
  }
  await fs.rm(temp, { force: true })
}

function noClobberError(target: string): TandemError {
  return new TandemError('ERR_EXISTS', `'${target}' exists; kept it (no-clobber)`)
}

async function exists(local: string): Promise<boolean> {
  return fs.lstat(local).then(
    () => true,
    () => false,
  )
}

/** Where `get NAME [LOCAL]` writes: LOCAL, or inside LOCAL if it is a folder, or ./basename. */
export async function downloadTarget(name: string, local: string | undefined): Promise<string> {
  const base = path.posix.basename(name)
  if (local === undefined) return base
  if (local.endsWith('/') || local.endsWith(path.sep)) return path.join(local, base)
  const stat = await fs.stat(local).catch(() => undefined)
  return stat?.isDirectory() ? path.join(local, base) : local
}

/**
 * fsync of a folder after a rename into it, coalesced: callers that arrive while a sync of the
 * same folder runs share the next one, which starts after they arrived (a `get` of a folder
 * renames many files into it at once: a few folder syncs instead of one per file).
 */
const dirSyncs = new Map<string, { running: Promise<void>; next?: Promise<void> }>()

function syncDirectory(dir: string): Promise<void> {
  const state = dirSyncs.get(dir)
  if (!state) {
    const running = syncDirectoryOnce(dir).finally(() => {
      const now = dirSyncs.get(dir)
      if (now?.next) dirSyncs.set(dir, { running: now.next })
      else dirSyncs.delete(dir)
    })
    dirSyncs.set(dir, { running })
    return running
  }
  // One sync is under way (it may have started before our rename): wait for the one after it.
  state.next ??= state.running
    .then(() => syncDirectoryOnce(dir))
    .finally(() => {
      if (dirSyncs.get(dir)?.running === state.next) dirSyncs.delete(dir)
    })
  return state.next
}

async function syncDirectoryOnce(dir: string): Promise<void> {
  // Makes the rename itself durable; not every platform can fsync a directory, hence best effort.
  const handle = await fs.open(dir, 'r').catch(() => undefined)
  await handle?.sync().catch(() => {})
  await handle?.close()
}

/** Progress of a batch: bytes and files done so far, and `name` the file that just moved. */
export interface PutProgress {
  bytesDone: number
  bytesTotal: number
  filesDone: number
  filesTotal: number
  name: string
}

export interface PutOptions {
  onProgress?: (progress: PutProgress) => void
  /** Uploads queued on the connection at once (default 32); bounds memory and how far the sender runs ahead. */
  maxInFlight?: number
}

export interface PutResult {
  files: (WriteResult & { local: string })[]
  bytes: number
}

/**
 * Upload every item of a plan over one connection, pipelined: up to `maxInFlight` uploads are
 * queued, their bodies go out one after the other and only the one on the wire has its file
 * open. Stops queueing at the first failure, lets the queued ones finish, and throws that failure
 * with the file named and how many were stored. Over a failover link (server-pool.ts) a lost
 * server moves the batch to another: each upload that was in flight starts again there from the
 * local file, with its request id; the files already stored are not sent again.
 */
export async function putFiles(
  target: Connection | Link,
  items: readonly PutItem[],
  options: PutOptions = {},
): Promise<PutResult> {
  const maxInFlight = Math.max(1, options.maxInFlight ?? 32)
  const batch = new BatchProgress(items, options.onProgress)
  const files: PutResult['files'] = []
  const inFlight = new Set<Promise<void>>()
  let failure: { item: PutItem; error: unknown } | undefined
  const link = asLink(target)
  const onProgress = (item: PutItem) => (done: number) => batch.progress(item, done)
  for (const item of items) {
    if (failure) break
    const upload = link.run((conn, rid) =>
      uploadItem(conn, item, { onProgress: onProgress(item), rid }),
    )
    const task = upload.then(
      (result) => {
        files.push({ ...result, local: item.local })
        batch.fileDone(item)
      },
      (error: unknown) => void (failure ??= { item, error }),
    )
    const tracked = task.finally(() => inFlight.delete(tracked))
    inFlight.add(tracked)
    if (inFlight.size >= maxInFlight) await Promise.race(inFlight)
  }
  await Promise.all(inFlight)
  if (failure) throw batchError(failure.item, failure.error, files.length, items.length)
  return { files, bytes: batch.bytesDone }
}

function batchError(item: PutItem, error: unknown, stored: number, total: number): TandemError {
  const cause = localError(error, item.local)
  const count = total === 1 ? '' : ` (${stored} of ${total} files stored)`
  const message = `'${item.local}' → '${item.name}': ${cause.message}${count}`
  return new TandemError(cause.code, message, { cause })
}

/** What a batch needs to know of each item for its progress. */
interface Sized {
  name: string
  size: number
}

class BatchProgress {
  readonly #onProgress: ((progress: PutProgress) => void) | undefined
  readonly #sent = new Map<Sized, number>()
  #bytesTotal: number
  #filesTotal: number
  bytesDone = 0
  #filesDone = 0

  constructor(items: readonly Sized[], onProgress: ((progress: PutProgress) => void) | undefined) {
    this.#onProgress = onProgress
    this.#bytesTotal = items.reduce((sum, item) => sum + item.size, 0)
    this.#filesTotal = items.length
  }

  progress(item: Sized, done: number): void {
    this.bytesDone += done - (this.#sent.get(item) ?? 0)
    this.#sent.set(item, done)
    this.#report(item)
  }

  /** The item's real size turned out to differ from the planned one. */
  resize(item: Sized, size: number): void {
    this.#bytesTotal += size - item.size
  }

  fileDone(item: Sized): void {
    this.#sent.delete(item)
    this.#filesDone++
    this.#report(item)
  }

  /** Left out of the batch (kept, not moved): it no longer counts. */
  skip(item: Sized, size = item.size): void {
    this.bytesDone -= this.#sent.get(item) ?? 0
    this.#sent.delete(item)
    this.#bytesTotal -= size
    this.#filesTotal--
    this.#report(item)
  }

  #report(item: Sized): void {
    this.#onProgress?.({
      bytesDone: this.bytesDone,
      bytesTotal: this.#bytesTotal,
      filesDone: this.#filesDone,
      filesTotal: this.#filesTotal,
      name: item.name,
    })
  }
}

/** Why a folder's file was skipped when the server did not know it yet (get-plan.ts notHere). */
export const NOT_HERE = 'not at this server yet'

export interface GetOptions {
  onProgress?: (progress: PutProgress) => void
  /** Downloads queued on the connection at once (default 16); each holds a temp file open. */
  maxInFlight?: number
  /** Keep local files that exist: they are reported in `skipped` and not downloaded. */
  noClobber?: boolean
}

export interface GetResult {
  files: (DownloadResult & { path: string })[]
  bytes: number
  skipped: { name: string; path: string; reason: string }[]
}

/**
 * Download every item of a plan over one connection, pipelined like putFiles, each file atomic
 * (downloadFile); the folders a file needs are made first. Stops queueing at the first failure,
 * lets the queued ones finish, and throws that failure with the file named and how many were
 * fetched. Over a failover link a file in flight when its server is lost is fetched again, whole,
 * from the next server (each attempt checked by SHA-256); the files already fetched are kept.
 */
export async function getFiles(
  target: Connection | Link,
  items: readonly GetItem[],
  options: GetOptions = {},
): Promise<GetResult> {
  const maxInFlight = Math.max(1, options.maxInFlight ?? 16)
  const batch = new BatchProgress(items, options.onProgress)
  const result: GetResult = { files: [], bytes: 0, skipped: [] }
  const made = new Set<string>()
  const inFlight = new Set<Promise<void>>()
  const noClobber = options.noClobber === true
  let failure: { item: GetItem; error: unknown } | undefined
  const link = asLink(target)
  const one = async (item: GetItem): Promise<void> => {
    if (noClobber && (await exists(item.local))) {
      result.skipped.push({ name: item.name, path: item.local, reason: 'exists' })
      batch.skip(item)
      return
    }
    const dir = path.dirname(item.local)
    if (!made.has(dir)) {
      await fs.mkdir(dir, { recursive: true }).catch((err: unknown) => {
        throw localError(err, dir)
      })
      made.add(dir)
    }
    let size = item.size
    try {
      const file = await link.run((conn) =>
        downloadFile(conn, item.name, item.local, {
          noClobber,
          plannedSize: item.size,
          onHeader: (header) => {
            // A replay's header may differ from the first attempt's: resize from the last known.
            batch.resize({ ...item, size }, header.size)
            size = header.size
          },
          onProgress: (done) => batch.progress(item, done),
        }),
      )
      result.files.push(file)
      batch.fileDone(item)
    } catch (err) {
      // Listed only at other servers, and not known at this one yet: mirroring has not caught up.
      if (item.notHere && err instanceof TandemError && err.code === 'ERR_NOT_FOUND') {
        result.skipped.push({ name: item.name, path: item.local, reason: NOT_HERE })
        batch.skip(item, size)
        return
      }
      if (!(noClobber && err instanceof TandemError && err.code === 'ERR_EXISTS')) throw err
      result.skipped.push({ name: item.name, path: item.local, reason: 'exists' })
      batch.skip(item, size)
    }
  }
  for (const item of items) {
    if (failure) break
    const task = one(item).catch((error: unknown) => void (failure ??= { item, error }))
    const tracked = task.finally(() => inFlight.delete(tracked))
    inFlight.add(tracked)
    if (inFlight.size >= maxInFlight) await Promise.race(inFlight)
  }
  await Promise.all(inFlight)
  if (failure) {
    const { item, error } = failure
    const cause = localError(error, item.local)
    const count =
      items.length === 1 ? '' : ` (${result.files.length} of ${items.length} files fetched)`
    const message = `'${item.name}' → '${item.local}': ${cause.message}${count}`
    throw new TandemError(cause.code, message, { cause })
  }
  result.bytes = result.files.reduce((sum, file) => sum + file.size, 0)
  return result
}
