import fs from 'node:fs/promises'
import { displayText, normalizeName, TandemError } from '../../../protocol/client.js'
import { findSource, type RemoteSource } from '../../get-plan.js'
import { checkRemoteArgument, resolveRemotes } from '../../targets.js'
import { getFiles, localError, planGet, type GetPlan, type GetResult } from '../../transfer.js'
import type { CliContext } from '../context.js'
import { interruptible } from '../interrupt.js'
import { humanDuration, humanSize, humanSpeed, plural } from '../render/format.js'

export interface GetCommandOptions {
  /** Keep local files that exist (reported as skipped). */
  noClobber?: boolean
  /** Read numeric sources as names, not listing indices. */
  name?: boolean
}

/**
 * `get SRC... [DEST]`, cp's rules: with one argument the source keeps its base name, here; with
 * more, the last is the local destination: one source's new name (inside it if it ends in `/` or
 * is a local folder), or for several sources a folder, made if missing. A folder (or `/`) comes
 * with its tree. Everything goes over one connection, pipelined, each file atomic. The JSON result
 * has one shape however many files: `{ files: [...], bytes, skipped }`.
 */
export async function get(
  ctx: CliContext,
  args: readonly string[],
  options: GetCommandOptions = {},
): Promise<void> {
  const sourceArgs = args.length === 1 ? args : args.slice(0, -1)
  const dest = args.length === 1 ? undefined : args.at(-1)
  const asName = options.name === true
  for (const argument of sourceArgs) checkRemoteArgument(argument, { asName })
  const sources: RemoteSource[] = await ctx.run(async (conn) => {
    const rows = (await conn.list()).files
    // `/` is the root, not a name; a number is an index of that same listing (unless --name).
    const named = await resolveRemotes(ctx, conn, sourceArgs, { asName, listing: rows })
    return named.map((name) => findSource(rows, sourceName(name), conn.server.name))
  })
  const pool = await ctx.pool()
  const plan = await planGet(sources, dest)
  if (plan.makeFolder !== undefined) await makeFolder(plan.makeFolder)
  const single = plan.items.length === 1
  const progress = ctx.progress('downloading')
  const started = Date.now()
  try {
    const result = await interruptible(pool, () =>
      getFiles(pool, plan.items, {
        noClobber: options.noClobber === true,
        onProgress: (p) => {
          const label = single ? p.name : `${p.filesDone}/${p.filesTotal} ${p.name}`
          progress.update(p.bytesDone, p.bytesTotal, label)
        },
      }),
    )
    progress.stop()
    result.skipped.unshift(...plan.skipped)
    ctx.print(result, summary(plan, result, Date.now() - started))
  } finally {
    progress.stop()
  }
}

/** A source as typed → its name on the server ('' for the root); ERR_BAD_PATH if it cannot be one. */
function sourceName(argument: string): string {
  if (isRoot(argument)) return ''
  try {
    return normalizeName(argument)
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err)
    throw new TandemError('ERR_BAD_PATH', `'${argument}' is not a name on the server: ${reason}`)
  }
}

/** `/` (or `.`, `./`): the served root. */
function isRoot(argument: string): boolean {
  return argument !== '' && argument.split('/').every((part) => part === '' || part === '.')
}

async function makeFolder(local: string): Promise<void> {
  await fs.mkdir(local, { recursive: true }).catch((err: unknown) => {
    throw localError(err, local)
  })
}

const SKIPPED: Record<string, string> = {
  symlink: 'a symbolic link on the server',
  'not at this server yet': 'listed at another server, not mirrored to this one yet',
}

function summary(plan: GetPlan, result: GetResult, elapsedMs: number): string {
  const lines = result.skipped.map((s) =>
    s.reason === 'exists'
      ? `kept ${displayText(s.path)}: it exists (--no-clobber)`
      : `skipped ${displayText(s.name)}: ${SKIPPED[s.reason] ?? s.reason}`,
  )
  const [only] = result.files
  if (plan.items.length === 1 && only) {
    const shown = `${displayText(only.name)} to ${displayText(only.path)}`
    lines.push(`fetched ${shown} (${humanSize(only.size)})`)
  } else if (plan.items.length > 1 || result.files.length > 0 || result.skipped.length === 0) {
    const count = plural(result.files.length, 'file')
    const speed = humanSpeed(result.bytes, elapsedMs)
    lines.push(
      `fetched ${count} (${humanSize(result.bytes)}) in ${humanDuration(elapsedMs)}, ${speed}`,
    )
  }
  return lines.join('\n')
}
