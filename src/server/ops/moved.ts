/**
 * Partial replication (`--replicas`): a name the index lists as live, with no copy on this disk,
 * is held by other members. An operation that needs the file's content (a read, an append, a
 * delete or a rename of it, a conditional write) is answered ERR_MOVED with those members, and
 * the client does it there instead: the binary client by itself, HTTP through a 307. Asked only
 * after the disk said ERR_NOT_FOUND, so a server that holds every file never asks.
 */
import { TandemError, type Holder } from '../../protocol/index.js'
import type { OpsContext } from './context.js'

type MovedContext = Pick<OpsContext, 'index' | 'config'>

/** The ERR_MOVED for `name`, or undefined when the index does not list it as held elsewhere. */
export function movedError(ctx: MovedContext, name: string): TandemError | undefined {
  const holders = ctx.index.heldElsewhere?.(name)
  if (holders === undefined) return undefined
  return movedTo(ctx, name, holders)
}

/**
 * ERR_MOVED naming `holders`; with none known to be reachable ERR_PEER_UNREACHABLE instead (a
 * client could not follow an empty list).
 */
export function movedTo(ctx: MovedContext, name: string, holders: Holder[]): TandemError {
  const here = ctx.config.serverName
  if (holders.length === 0)
    return new TandemError(
      'ERR_PEER_UNREACHABLE',
      `'${name}' is not held at ${here}, and no member that holds it is known now (--replicas); try again when one is up`,
    )
  const names = holders.map((h) => h.name).join(', ')
  return new TandemError('ERR_MOVED', `'${name}' is not held at ${here}: it is at ${names}`, {
    holders,
  })
}

/** True when the index lists `name` live with no copy here (a `create` of it is ERR_EXISTS). */
export function isHeldElsewhere(ctx: Pick<OpsContext, 'index'>, name: string): boolean {
  return ctx.index.heldElsewhere?.(name) !== undefined
}

/** True when the index lists live names below the folder `name` with no copy here. */
export function hasNotHeldUnder(ctx: Pick<OpsContext, 'index'>, name: string): boolean {
  return (ctx.index.notHeldUnder?.(name).length ?? 0) > 0
}

/**
 * What the index says is in the way of making the file `name` here when this disk shows nothing
 * there: a folder of that name whose files are held at other members (`asFolder`: the code a
 * holder's disk would answer, ERR_IS_DIRECTORY for a replacement, ERR_EXISTS for a create or a
 * rename), or a part of its path that is a file held at other members (ERR_EXISTS, as a holder's
 * disk answers). Undefined when nothing is. Without it a non-holder would make a file where the
 * cluster has a folder, or a folder below a file, and the type-clash rule would then move one of
 * them to a conflict copy on every member.
 */
export function clashElsewhere(
  ctx: Pick<OpsContext, 'index'>,
  name: string,
  asFolder: 'ERR_IS_DIRECTORY' | 'ERR_EXISTS',
): TandemError | undefined {
  if (ctx.index.heldElsewhere === undefined) return undefined
  if (hasNotHeldUnder(ctx, name))
    return new TandemError(asFolder, `'${name}' is a folder (its files are held at other members)`)
  for (let slash = name.indexOf('/'); slash !== -1; slash = name.indexOf('/', slash + 1)) {
    const part = name.slice(0, slash)
    if (isHeldElsewhere(ctx, part))
      return new TandemError(
        'ERR_EXISTS',
        `'${name}' cannot be made: a part of its path ('${part}') is a file, held at other members`,
      )
  }
  return undefined
}

/** Run `fn`; its ERR_NOT_FOUND for a name held elsewhere becomes ERR_MOVED. */
export async function orMoved<T>(
  ctx: MovedContext,
  name: string,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    if (err instanceof TandemError && err.code === 'ERR_NOT_FOUND')
      throw movedError(ctx, name) ?? err
    throw err
  }
}
