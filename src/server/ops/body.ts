/**
 * Operations with a body (upload, create, write, append). The body is received into a temp file
 * with no lock held (a slow client blocks nobody); only the final step, publishing the sealed temp
 * file over the target, runs under the target's write lock.
 */
import { TandemError, type RequestOf, type WriteResult } from '../../protocol/index.js'
import type { ResolvedName } from '../storage/path-jail.js'
import type { FileIdentity, TempFile } from '../storage/temp-file.js'
import { checkConditions, type Conditions } from './conditions.js'
import { rememberHash } from './content-hash.js'
import { withLock, type OpsContext } from './context.js'
import { clashElsewhere, isHeldElsewhere, movedError, orMoved } from './moved.js'

/** An operation with a body, as every front end describes it (the id is the binary protocol's). */
export type BodyRequest =
  RequestOf<'upload'> | RequestOf<'create'> | RequestOf<'write'> | RequestOf<'append'>

/** What a commit did: the result, and whether the name was new. */
export interface Committed {
  result: WriteResult
  created: boolean
}

/**
 * Checks made before the body arrives, so that a doomed transfer fails early. They are repeated
 * under the lock at commit time, where they count.
 */
export async function precheck(
  ctx: OpsContext,
  req: BodyRequest,
  file: ResolvedName,
  conditions?: Conditions,
): Promise<void> {
  // Early, so that a body is not sent for nothing; the main thread checks again at commit.
  const owner = req.op === 'create' ? undefined : ctx.index.lockOwner(file.name)
  if (owner !== undefined && owner !== ctx.client.id)
    throw new TandemError(
      'ERR_LOCKED',
      `'${file.name}' is locked by ${owner} at ${ctx.config.serverName}`,
    )
  if (req.op === 'create' && ((await ctx.store.exists(file)) || isHeldElsewhere(ctx, file.name))) {
    throw new TandemError('ERR_EXISTS', `'${file.name}' already exists`)
  }
  if ((req.op === 'upload' || req.op === 'create') && !(await ctx.store.exists(file))) {
    const clash = clashElsewhere(ctx, file.name, clashCode(req.op))
    if (clash) throw clash
  }
  if ((req.op === 'write' || req.op === 'append') && !(await ctx.store.exists(file))) {
    missing(ctx, req.op, file.name)
  }
  await checkConditions(ctx, file, conditions)
}

/**
 * `write` or `append` of a name not on this disk: ERR_NOT_FOUND, unless other members hold it
 * (partial replication). Then a write replaces it here (a new version, held here; placement
 * moves it later), while an append, which needs the content, is ERR_MOVED.
 */
function missing(ctx: OpsContext, op: 'write' | 'append', name: string): void {
  if (op === 'write' && isHeldElsewhere(ctx, name)) return
  throw movedError(ctx, name) ?? new TandemError('ERR_NOT_FOUND', `no file '${name}'`)
}

/** What a file made over a folder held elsewhere is answered, as a holder's disk answers it. */
function clashCode(op: 'upload' | 'create'): 'ERR_IS_DIRECTORY' | 'ERR_EXISTS' {
  return op === 'upload' ? 'ERR_IS_DIRECTORY' : 'ERR_EXISTS'
}

/** Publish a sealed temp file according to the operation. `sha256` is of the body received. */
export async function commit(
  ctx: OpsContext,
  req: BodyRequest,
  file: ResolvedName,
  temp: TempFile,
  sha256: string,
  conditions?: Conditions,
): Promise<Committed> {
  // Also the real file's name: two names (a symlink and its target) must not commit at once.
  const names = [file.name, ctx.store.jail.nameOf(file.path)]
  let created = false
  let published: { identity: FileIdentity; changedMs: number } | undefined
  // The temp file holds the whole content (not so for append): the sync worker can trust its hash
  // for the file the rename leaves. Told before the rename, under the write lock: the rename's
  // watcher event finds it in (a notice from after the lock's release came too late for a big
  // file's scan, which then read the whole file again). It names the temp file's identity (inode,
  // size, mtime), so a publish that fails leaves a notice that matches nothing.
  const tellPublished = (): void => {
    if (temp.identity) ctx.published(ctx.store.jail.nameOf(file.path), sha256, temp.identity)
  }
  const place = async (): Promise<{ name: string; size: number; mtime: number }> => {
    switch (req.op) {
      case 'upload':
        await temp.adoptModeOf(file.path, file.mode)
        tellPublished()
        await temp.publish(file.path)
        published = await ctx.store.identityOf(file)
        // The client gave the time (set on the file): no need to stat for it.
        if (req.mtime !== undefined)
          return { name: file.name, size: temp.size, mtime: Math.round(req.mtime) }
        break
      case 'create':
        // A name held only at other members exists as much as one on this disk.
        if (isHeldElsewhere(ctx, file.name))
          throw new TandemError('ERR_EXISTS', `'${file.name}' already exists`)
        tellPublished()
        await temp.publishExclusive(file.path)
        published = await ctx.store.identityOf(file)
        break
      case 'write':
        if (!(await ctx.store.exists(file))) missing(ctx, 'write', file.name)
        await temp.adoptModeOf(file.path, file.mode)
        tellPublished()
        await temp.publish(file.path)
        published = await ctx.store.identityOf(file)
        break
      case 'append':
        return orMoved(ctx, file.name, () => ctx.store.appendFrom(file, temp))
    }
    return ctx.store.stat(file)
  }
  const done = await withLock(ctx, names, 'write', async (): Promise<Committed> => {
    await checkConditions(ctx, file, conditions)
    if (req.op !== 'append') {
      // Not on this disk: a new name, unless other members hold it (then a new version of it).
      created = !(await ctx.store.exists(file)) && !isHeldElsewhere(ctx, file.name)
      // Nothing here: the index may still have a folder of that name, or a file on its path.
      if (created && req.op !== 'write') {
        const clash = clashElsewhere(ctx, file.name, clashCode(req.op))
        if (clash) throw clash
      }
    }
    const info = await place()
    const committed = {
      result: { name: file.name, size: info.size, mtime: info.mtime, sha256 },
      created,
    }
    ctx.applied?.(committed) // a request with a rid: recorded before the lock goes (once.ts)
    return committed
  })
  // Remembered as published (its ctime is the rename's), for the next ETag and If-Match.
  if (req.op !== 'append' && temp.identity && published)
    rememberHash(ctx.store.jail.nameOf(file.path), published.identity, published.changedMs, sha256)
  ctx.log({ op: req.op, name: file.name, size: temp.size }, true)
  return done
}
