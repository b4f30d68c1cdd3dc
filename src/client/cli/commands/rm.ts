import { displayText } from '../../../protocol/index.js'
import type { CliContext } from '../context.js'

/** `rm NAME`: delete on the server. */
export async function rm(ctx: CliContext, name: string): Promise<void> {
  const conn = await ctx.connection()
  const result = await conn.delete(name)
  ctx.print(result, `deleted ${displayText(result.name)}`)
}
