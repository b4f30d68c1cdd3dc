import { DEFAULT_SERVER } from '../../config.js'
import type { CliContext } from '../context.js'

/** No command on a terminal: the interactive menu (loaded only then: it pulls in inquirer). */
export async function menu(ctx: CliContext): Promise<number> {
  const server = ctx.globals.server ?? nonEmpty(ctx.io.env.TANDEM_SERVER) ?? DEFAULT_SERVER
  ctx.servers() // a malformed address is a usage error here, before the menu starts
  const clientId = await ctx.clientId()
  const waitSeconds = ctx.waitSeconds()
  const { runMenu } = await import('../../menu/index.js')
  return runMenu({ server, clientId, waitSeconds })
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value
}
