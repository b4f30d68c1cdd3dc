import fs from 'node:fs/promises'
import { displayText } from '../../../protocol/index.js'
import { planPut, putFiles, type PutPlan, type PutResult } from '../../transfer.js'
import type { CliContext } from '../context.js'
import { interruptible } from '../interrupt.js'
import { humanDuration, humanSize, humanSpeed, plural } from '../render/format.js'

/**
 * `put LOCAL... [NAME]`: one file (or folder) and a NAME that is not a local path stores it under
 * that name; otherwise every argument is a local file or folder and keeps its name. The JSON
 * result has one shape however many files: `{ files: [...], bytes, skipped }`.
 */
export async function put(ctx: CliContext, args: readonly string[]): Promise<void> {
  const { locals, as } = await splitTarget(args)
  const plan = await planPut(locals, as === undefined ? {} : { as })
  const conn = await ctx.connection()
  const single = plan.items.length === 1
  const progress = ctx.progress('uploading')
  const started = Date.now()
  try {
    const result = await interruptible(conn, () =>
      putFiles(conn, plan.items, {
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

async function splitTarget(args: readonly string[]): Promise<{ locals: string[]; as?: string }> {
  if (args.length === 2) {
    const last = args[1]!
    const exists = await fs.stat(last).then(
      () => true,
      () => false,
    )
    if (!exists) return { locals: [args[0]!], as: last }
  }
  return { locals: [...args] }
}
