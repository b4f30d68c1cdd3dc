import type { Readable } from 'node:stream'
import type { WriteResult } from '../../../protocol/index.js'
import type { CliContext } from '../context.js'
import { humanSize } from '../render/format.js'

export type BodyOp = 'create' | 'write' | 'append'

const DONE: Record<BodyOp, (r: WriteResult) => string> = {
  create: (r) => `created ${r.name} (${humanSize(r.size)})`,
  write: (r) => `wrote ${r.name} (${humanSize(r.size)})`,
  append: (r) => `appended to ${r.name} (now ${humanSize(r.size)})`,
}

/** `create|write|append NAME [--text TEXT]`: the body is TEXT, or stdin to its end. */
export async function bodyCommand(
  ctx: CliContext,
  op: BodyOp,
  name: string,
  text: string | undefined,
): Promise<void> {
  const body: Buffer | Readable = text !== undefined ? Buffer.from(text, 'utf8') : ctx.io.stdin
  if (text === undefined && ctx.io.stdin.isTTY) {
    ctx.io.stderr.write('reading the content from the terminal; end it with Ctrl+D\n')
  }
  const conn = await ctx.connection()
  const result = await conn[op](name, body)
  ctx.print(result, DONE[op](result))
}
