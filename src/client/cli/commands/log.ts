import type { LogEntry } from '../../../protocol/client.js'
import type { CliContext } from '../context.js'
import { renderLog, renderLogEntry } from '../render/log.js'

/**
 * `log [--limit N]`: the change log. `--follow` keeps printing new entries as they happen, until
 * the server closes the connection (an error) or the process is stopped by a signal; with --json
 * it prints one JSON object per line (the entries so far, then each new one).
 */
export async function log(
  ctx: CliContext,
  options: { follow?: boolean; limit?: number },
): Promise<void> {
  const limit = options.limit === undefined ? {} : { limit: options.limit }
  if (!options.follow) {
    const { entries } = await ctx.run((conn) => conn.log(limit))
    ctx.print(entries, renderLog(entries))
    return
  }
  // A follow ends with its server: another server's log is another story (no failover).
  const conn = await ctx.connection()
  const line = (entry: LogEntry): string =>
    ctx.json ? JSON.stringify(entry) : renderLogEntry(entry)
  const buffered: LogEntry[] = []
  let ready = false
  const onEvent = (entry: LogEntry): void => {
    if (ready) ctx.io.stdout.write(`${line(entry)}\n`)
    else buffered.push(entry)
  }
  const closed = new Promise<Error | undefined>((resolve) => conn.onClose(resolve))
  const { entries } = await conn.follow(onEvent, limit)
  // Events may come in right behind the answer: print the answer's entries first.
  for (const entry of [...entries, ...buffered]) ctx.io.stdout.write(`${line(entry)}\n`)
  ready = true
  ctx.note('following the log; stop with Ctrl+C')
  const error = await closed
  if (error) throw error
}
