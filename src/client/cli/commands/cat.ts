import { checkRemoteArgument, resolveRemote, type ResolveOptions } from '../../targets.js'
import type { CliContext } from '../context.js'

/**
 * `cat INDEX|NAME [--name]`: the file's bytes on stdout, unchanged (no JSON form: the content is
 * the output).
 */
export async function cat(
  ctx: CliContext,
  target: string,
  options: ResolveOptions = {},
): Promise<void> {
  checkRemoteArgument(target, options)
  const name = await ctx.run((conn) => resolveRemote(ctx, conn, target, options))
  const { stdout } = ctx.io
  // A reader that went away (`tandem cat big | head`) ends the download instead of draining it,
  // and is not an error: the reader had what it wanted.
  let readerGone = false
  const pool = await ctx.pool()
  const onError = (): void => {
    readerGone = true
    pool.destroy()
  }
  // Bytes already on stdout cannot be taken back: only a download that printed none is replayed.
  let printed = 0
  // `on`, never removed: after the reader left, later writes fail again and must stay quiet.
  stdout.on('error', onError)
  try {
    const onProgress = (done: number): void => void (printed = done)
    await ctx.run(
      (conn) => conn.download(name, stdout, { end: false, purpose: 'read', onProgress }),
      { canReplay: () => printed === 0 },
    )
  } catch (err) {
    if (!readerGone) throw err
  }
}
