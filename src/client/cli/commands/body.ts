import { Readable } from 'node:stream'
import {
  displayText,
  isTandemError,
  normalizeName,
  TandemError,
  type WriteResult,
} from '../../../protocol/client.js'
import { checkRemoteArgument, isIndexArgument, resolveRemote } from '../../targets.js'
import type { CliContext } from '../context.js'
import { UsageError } from '../errors.js'
import { humanSize } from '../render/format.js'

export type BodyOp = 'create' | 'write' | 'append'

const DONE: Record<BodyOp, (r: WriteResult) => string> = {
  create: (r) => `created ${displayText(r.name)} (${humanSize(r.size)})`,
  write: (r) => `wrote ${displayText(r.name)} (${humanSize(r.size)})`,
  append: (r) => `appended to ${displayText(r.name)} (now ${humanSize(r.size)})`,
}

/**
 * `create|write|append INDEX|NAME [--text TEXT] [--name]`: the body is TEXT, or stdin to its end.
 * An index names a listed file (so `create 3` is ERR_EXISTS); `--name` makes `2024` a name.
 */
export async function bodyCommand(
  ctx: CliContext,
  op: BodyOp,
  target: string,
  options: { text?: string; name?: boolean },
): Promise<void> {
  const { text } = options
  const asName = { asName: options.name === true }
  checkRemoteArgument(target, asName)
  // A bad name fails here, before stdin is read to its end.
  if (!isIndexArgument(target, asName)) normalizeName(target)
  const body: Buffer | Readable = text !== undefined ? Buffer.from(text, 'utf8') : ctx.io.stdin
  if (text === undefined && ctx.io.stdin.isTTY) {
    ctx.io.stderr.write('reading the content from the terminal; end it with Ctrl+D\n')
  }
  const pool = await ctx.pool()
  try {
    const resolving = ctx.run((conn) => resolveRemote(ctx, conn, target, asName))
    const name = await resolving.catch((err: unknown) => {
      // `create 2024` most likely meant a file of that name: say how.
      if (op === 'create' && isTandemError(err, 'ERR_NOT_FOUND'))
        throw new TandemError(
          err.code,
          `${err.message}; to create a file named '${target}', use --name`,
        )
      throw err
    })
    const content = await guardEmpty(op, body)
    // A replay on another server sends the body again: stdin is read whole first then.
    const replayable =
      pool.canFailover && !Buffer.isBuffer(content) ? await readAll(content) : content
    const result = await ctx.run((conn, rid) => conn[op](name, replayable, { rid }), {
      canReplay: () => Buffer.isBuffer(replayable),
    })
    ctx.print(result, DONE[op](result))
  } finally {
    // The answer is in (or the request failed): stop waiting for more of stdin.
    if (text === undefined) ctx.io.stdin.destroy()
  }
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array))
  return Buffer.concat(chunks)
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
