import type { CliContext } from '../context.js'
import { renderStatus } from '../render/status.js'

/** `status`: the server, its clients, peers and locks. */
export async function status(ctx: CliContext): Promise<void> {
  const result = await ctx.run((conn) => conn.status())
  ctx.print(result, renderStatus(result))
}
