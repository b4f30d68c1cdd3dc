import path from 'node:path'
import { displayText } from '../../../protocol/client.js'
import { readRemoteDestination } from '../../put-plan.js'
import { checkRemoteArgument, resolveRemote } from '../../targets.js'
import type { CliContext } from '../context.js'
import { plural } from '../render/format.js'

/**
 * `mv OLD NEW`: rename on the server (OLD may be a listing index, unless --name), a file or a whole folder as one operation (ERR_NOT_FOUND,
 * ERR_EXISTS, ERR_LOCKED). NEW ending in `/` means inside that folder, keeping OLD's base name;
 * `/` is the served root.
 */
export async function mv(
  ctx: CliContext,
  argument: string,
  to: string,
  options: { name?: boolean } = {},
): Promise<void> {
  const asName = options.name === true
  checkRemoteArgument(argument, { asName })
  const dest = readRemoteDestination(to)
  const from = await ctx.run((conn) => resolveRemote(ctx, conn, argument, { asName }))
  const base = path.posix.basename(from)
  const name =
    dest.kind === 'root' ? base : dest.kind === 'folder' ? `${dest.name}/${base}` : dest.name
  const result = await ctx.run((conn, rid) => conn.rename(from, name, { rid }))
  const what = result.folder
    ? `folder ${displayText(result.from)} (${plural(result.files ?? 0, 'file')})`
    : displayText(result.from)
  ctx.print(result, `renamed ${what} to ${displayText(result.to)}`)
}
