import { Readable } from 'node:stream'
import { displayText, normalizeName, type WriteResult } from '../../../protocol/index.js'
import type { CliContext } from '../context.js'
import { UsageError } from '../errors.js'
import { humanSize } from '../render/format.js'

export type BodyOp = 'create' | 'write' | 'append'

const DONE: Record<BodyOp, (r: WriteResult) => string> = {
  create: (r) => `created ${displayText(r.name)} (${humanSize(r.size)})`,
  write: (r) => `wrote ${displayText(r.name)} (${humanSize(r.size)})`,
  append: (r) => `appended to ${displayText(r.name)} (now ${humanSize(r.size)})`,
}

/** `create|write|append NAME [--text TEXT]`: the body is TEXT, or stdin to its end. */
export async function bodyCommand(
  ctx: CliContext,
  op: BodyOp,
  name: string,
  text: string | undefined,
): Promise<void> {
  normalizeName(name) // a bad name fails here, before stdin is read to its end
  const body: Buffer | Readable = text !== undefined ? Buffer.from(text, 'utf8') : ctx.io.stdin
  if (text === undefined && ctx.io.stdin.isTTY) {
    ctx.io.stderr.write('reading the content from the terminal; end it with Ctrl+D\n')
  }
  const conn = await ctx.connection()
  try {
    const result = await conn[op](name, await guardEmpty(op, body))
    ctx.print(result, DONE[op](result))
  } finally {
    // The answer is in (or the request failed): stop waiting for more of stdin.
    if (text === undefined) ctx.io.stdin.destroy()
  }
}

/**
 * `write` from an empty stdin (`< /dev/null` in a cron job, a directory) would empty the file:
 * refuse it; `--text ''` says so on purpose.
 */
async function guardEmpty(op: BodyOp, body: Buffer | Readable): Promise<Buffer | Readable> {
  if (op !== 'write' || Buffer.isBuffer(body)) return body
  const chunks = body[Symbol.asyncIterator]()
  const first = (await chunks.next()) as IteratorResult<Buffer>
  if (first.done) {
    throw new UsageError("no content on stdin; to empty the file, use --text ''")
  }
  return Readable.from(
    (async function* () {
      yield first.value
      for (let next = await chunks.next(); !next.done; next = await chunks.next())
        yield next.value as Buffer
    })(),
  )
}
