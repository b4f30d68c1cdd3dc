import { displayText } from '../../../protocol/index.js'
import type { CliContext } from '../context.js'

/** `mv OLD NEW`: rename on the server (ERR_NOT_FOUND, ERR_EXISTS). */
export async function mv(ctx: CliContext, from: string, to: string): Promise<void> {
  const conn = await ctx.connection()
  const result = await conn.rename(from, to)
  ctx.print(result, `renamed ${displayText(result.from)} to ${displayText(result.to)}`)
}
