import fs from 'node:fs/promises'
import { planPut, putFiles, uploadFile } from '../../transfer.js'
import type { CliContext } from '../context.js'
import { humanDuration, humanSize, humanSpeed, plural } from '../render/format.js'

/**
 * `put LOCAL... [NAME]`: one file (or folder) and a NAME that is not a local path stores it under
 * that name; otherwise every argument is a local file or folder and keeps its name.
 */
export async function put(ctx: CliContext, args: readonly string[]): Promise<void> {
  const { locals, as } = await splitTarget(args)
  const plan = await planPut(locals, as === undefined ? {} : { as })
  const conn = await ctx.connection()
  const progress = ctx.progress('uploading')
  const started = Date.now()
  try {
    if (plan.items.length === 1 && plan.items[0]!.local === locals[0]) {
      const item = plan.items[0]!
      const result = await uploadFile(conn, item.local, item.name, {
        onProgress: (done, total) => progress.update(done, total ?? item.size, item.name),
      })
      progress.stop()
      ctx.print(
        { ...result, local: item.local },
        `stored ${item.local} as ${result.name} (${humanSize(result.size)})`,
      )
      return
    }
    const result = await putFiles(conn, plan.items, {
      onProgress: (p) =>
        progress.update(p.bytesDone, p.bytesTotal, `${p.filesDone}/${p.filesTotal} ${p.name}`),
    })
    progress.stop()
    const elapsed = Date.now() - started
    const skipped = plan.skipped.map((s) => `skipped ${s.local}: ${s.reason}`)
    const summary = `stored ${plural(result.files.length, 'file')} (${humanSize(result.bytes)}) in ${humanDuration(elapsed)}, ${humanSpeed(result.bytes, elapsed)}`
    ctx.print(
      { files: result.files, bytes: result.bytes, skipped: plan.skipped },
      [...skipped, summary].join('\n'),
    )
  } finally {
    progress.stop()
  }
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
