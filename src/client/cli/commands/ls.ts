import type { CliContext } from '../context.js'
import { renderListing } from '../render/listing.js'

/** `ls`: the composite listing, with the indices that lock/unlock accept. */
export async function ls(ctx: CliContext): Promise<void> {
  const conn = await ctx.connection()
  const { files } = await conn.list()
  ctx.print(files, renderListing(files))
}
