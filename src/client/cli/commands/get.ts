import { displayText } from '../../../protocol/index.js'
import { downloadFile, downloadTarget } from '../../transfer.js'
import type { CliContext } from '../context.js'
import { interruptible } from '../interrupt.js'
import { humanSize } from '../render/format.js'

/** `get NAME [LOCAL]`: download atomically to LOCAL (default: the name's last part, here). */
export async function get(ctx: CliContext, name: string, local: string | undefined): Promise<void> {
  const target = await downloadTarget(name, local)
  const conn = await ctx.connection()
  const progress = ctx.progress(name)
  try {
    const result = await interruptible(conn, () =>
      downloadFile(conn, name, target, {
        onProgress: (done, total) => progress.update(done, total ?? done),
      }),
    )
    progress.stop()
    const shown = `${displayText(result.name)} to ${displayText(result.path)}`
    ctx.print(result, `fetched ${shown} (${humanSize(result.size)})`)
  } finally {
    progress.stop()
  }
}
