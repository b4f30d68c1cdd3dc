import { displayText } from '../../../protocol/client.js'
import { readRemoteDestination } from '../../put-plan.js'
import {
  planPut,
  putFiles,
  type PlanOptions,
  type PutPlan,
  type PutResult,
} from '../../transfer.js'
import type { CliContext } from '../context.js'
import { interruptible } from '../interrupt.js'
import { humanDuration, humanSize, humanSpeed, plural } from '../render/format.js'

/**
 * `put SRC... [DEST]`, cp's rules: with one argument the source keeps its base name (a folder its
 * name and tree); with more, the last is the destination on the server: for one source its new
 * name, unless DEST ends in `/` or is a folder on the server (then inside it); for several a
 * folder; `/` is the served root. The local disk never changes how DEST reads. The JSON result has
 * one shape however many files: `{ files: [...], bytes, skipped }`.
 */
export async function put(ctx: CliContext, args: readonly string[]): Promise<void> {
  const locals = args.length === 1 ? [...args] : args.slice(0, -1)
  const target = await readTarget(ctx, args, locals.length)
  const plan = await planPut(locals, target)
  await ctx.connection()
  const pool = await ctx.pool()
  const single = plan.items.length === 1
  const progress = ctx.progress('uploading')
  const started = Date.now()
  try {
    const result = await interruptible(pool, () =>
      putFiles(pool, plan.items, {
        onProgress: (p) => {
          const label = single ? p.name : `${p.filesDone}/${p.filesTotal} ${p.name}`
          progress.update(p.bytesDone, p.bytesTotal, label)
        },
      }),
    )
    progress.stop()
    ctx.print(
      { files: result.files, bytes: result.bytes, skipped: plan.skipped },
      summary(plan, result, Date.now() - started),
    )
  } finally {
    progress.stop()
  }
}

/** Where the sources go: the destination read by the rules above (one listing at most). */
async function readTarget(
  ctx: CliContext,
  args: readonly string[],
  sources: number,
): Promise<PlanOptions> {
  if (args.length === 1) return {}
  const dest = readRemoteDestination(args.at(-1)!)
  if (dest.kind === 'root') return { into: '' }
  if (dest.kind === 'folder' || sources > 1) return { into: dest.name }
  const prefix = `${dest.name}/`
  const { files } = await ctx.run((conn) => conn.list())
  return files.some((row) => row.name.startsWith(prefix)) ? { into: dest.name } : { as: dest.name }
}

function summary(plan: PutPlan, result: PutResult, elapsedMs: number): string {
  const lines = plan.skipped.map((s) => `skipped ${displayText(s.local)}: ${displayText(s.reason)}`)
  const [only] = result.files
  if (result.files.length === 1 && only) {
    const shown = `${displayText(only.local)} as ${displayText(only.name)}`
    lines.push(`stored ${shown} (${humanSize(only.size)})`)
  } else {
    const count = plural(result.files.length, 'file')
    const speed = humanSpeed(result.bytes, elapsedMs)
    lines.push(
      `stored ${count} (${humanSize(result.bytes)}) in ${humanDuration(elapsedMs)}, ${speed}`,
    )
  }
  return lines.join('\n')
}
