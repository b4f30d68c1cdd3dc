import { displayText, TandemError, type DeleteResult } from '../../../protocol/client.js'
import { checkRemoteArgument, resolveRemotes } from '../../targets.js'
import type { CliContext } from '../context.js'
import { plural } from '../render/format.js'

export interface RmOptions {
  /** Delete folders with everything in them. */
  recursive?: boolean
  /** Read numeric arguments as names, not listing indices. */
  name?: boolean
}

/**
 * `rm NAME... [-r]`: delete on the server (a number is a listing index, unless --name; every one
 * read in one listing before anything is deleted), one name after the other, stopping at the
 * first failure (which says how many were deleted before it). A folder needs -r (ERR_IS_DIRECTORY
 * otherwise). JSON: the result for one name, an array of them for several.
 */
export async function rm(
  ctx: CliContext,
  names: readonly string[],
  options: RmOptions = {},
): Promise<void> {
  const asName = options.name === true
  for (const argument of names) checkRemoteArgument(argument, { asName })
  const targets = await ctx.run((conn) => resolveRemotes(ctx, conn, names, { asName }))
  const results: DeleteResult[] = []
  for (const name of targets) {
    try {
      const recursive = options.recursive === true
      results.push(await ctx.run((conn, rid) => conn.delete(name, { recursive, rid })))
    } catch (err) {
      if (results.length === 0 || !(err instanceof TandemError)) throw err
      const done = `${plural(results.length, 'name')} deleted before it`
      throw new TandemError(err.code, `${err.message} (${done})`, { cause: err })
    }
  }
  const human = results.map((r) =>
    r.folder
      ? `deleted folder ${displayText(r.name)} (${plural(r.files ?? 0, 'file')})`
      : `deleted ${displayText(r.name)}`,
  )
  ctx.print(results.length === 1 ? results[0] : results, human.join('\n'))
}
