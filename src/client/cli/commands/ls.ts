import { rememberListing } from '../../listing-cache.js'
import type { CliContext } from '../context.js'
import { renderListing } from '../render/listing.js'

/**
 * `ls`: the composite listing, with the indices that lock/unlock accept. The names are remembered
 * for this server address, so that `lock INDEX` can tell the server which file the index named.
 */
export async function ls(ctx: CliContext): Promise<void> {
  const { files, address } = await ctx.run(async (conn) => ({
    ...(await conn.list()),
    address: conn.address,
  }))
  ctx.print(files, renderListing(files, { decorate: ctx.interactive }))
  await rememberListing(
    ctx.listingCacheFile,
    address,
    files.map((row) => row.name),
  )
}
