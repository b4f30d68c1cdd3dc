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
