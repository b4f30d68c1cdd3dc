import { formatAddress } from '../../address.js'
import { DEFAULT_SERVER } from '../../config.js'
import type { CliContext } from '../context.js'

/** No command on a terminal: the interactive menu (loaded only then: it pulls in inquirer). */
export async function menu(ctx: CliContext): Promise<number> {
  // A malformed address is a usage error here, before the menu starts. With --cluster the menu
  // gets the members found (in the order they answered; it does not pick the least loaded).
  const { servers, discovered } = await ctx.serverList()
  const server = discovered
    ? servers.map((s) => formatAddress(s.host, s.port)).join(',')
    : (ctx.globals.server ?? nonEmpty(ctx.io.env.TANDEM_SERVER) ?? DEFAULT_SERVER)
  const clientId = await ctx.clientId()
  const waitSeconds = ctx.waitSeconds()
  const { runMenu } = await import('../../menu/index.js')
  return runMenu({ server, clientId, waitSeconds })
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value
}
