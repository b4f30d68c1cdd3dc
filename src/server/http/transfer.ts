/**
 * File bodies over HTTP, both ways, written once for every route that moves one: a download
 * (ETag, Last-Modified, Range, If-None-Match, If-Range, Content-Disposition) streamed from the
 * handle the read operation opened, and an upload streamed into the operations' BodyReceiver
 * (temp file, SHA-256, fsync, rename) one chunk at a time, so the socket is read only as fast as
 * the disk takes it.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { TandemError } from '../../protocol/index.js'
import type { BodyRequest, Committed } from '../ops/body.js'
import { BodyReceiver } from '../ops/body-receiver.js'
import type { Conditions } from '../ops/conditions.js'
import type { OpsContext } from '../ops/context.js'
import { hashOf, openFile, readEnded, type ReadPurpose } from '../ops/read.js'
import {
  contentDisposition,
  digestOf,
  etagOf,
  parseRange,
  parseTags,
  type ByteRange,
} from './request-parts.js'

/** Bytes of an upload gathered into one vectored write. */
const WRITE_BATCH = 1024 * 1024

/** Bytes read from the file per chunk sent. */
const READ_CHUNK = 256 * 1024

export async function sendFile(
  ctx: OpsContext,
  name: string,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const opened = await openFile(ctx, { name })
  let handedOver = false
  try {
    const { info } = opened
    const sha256 = await hashOf(ctx, opened)
    const etag = etagOf(sha256)
    reply.headers({
      etag,
      'last-modified': new Date(info.mtime).toUTCString(),
      'accept-ranges': 'bytes',
      'cache-control': 'no-cache',
      'content-type': 'application/octet-stream',
      'x-content-type-options': 'nosniff',
      'content-disposition': contentDisposition(info.name),
    })
    const unchanged = parseTags(header(request, 'if-none-match'), true)
    if (unchanged === '*' || unchanged?.includes(sha256)) return await reply.code(304).send()
    let range: ByteRange | undefined
    try {
      range = parseRange(header(request, 'range'), info.size)
    } catch (err) {
      reply.header('content-range', `bytes */${info.size}`)
      throw err
    }
    const ifRange = header(request, 'if-range')
    if (range && ifRange !== undefined && ifRange !== etag) range = undefined
    const start = range?.start ?? 0
    const end = range?.end ?? info.size - 1
    const length = end - start + 1
    if (range) reply.code(206).header('content-range', `bytes ${start}-${end}/${info.size}`)
    reply.header('content-length', length)
    if (request.method === 'HEAD' || length === 0) return await reply.send()
    const stream = opened.handle.createReadStream({
      start,
      end,
      highWaterMark: READ_CHUNK,
      autoClose: true,
    })
    handedOver = true
    // Told once the response is over: whole when every byte went out, else what had (the file's
    // bytes read, less those still waiting in the stream).
    reply.raw.once('close', () => {
      const bytes = reply.raw.writableFinished
        ? length
        : Math.min(length, Math.max(0, stream.bytesRead - stream.readableLength))
      readEnded(ctx, info, { bytes, size: length, purpose: purposeOf(request) })
    })
    return await reply.send(stream)
  } finally {
    if (!handedOver) await opened.handle.close()
  }
}

/** What a request says about the body it carries. */
export interface BodyOptions {
  conditions?: Conditions | undefined
  /** The SHA-256 the sender gave (Content-Digest). */
  digest?: Buffer | undefined
  /** Awaited after the whole body is in its temp file, before the commit: may refuse it. */
  beforeCommit?: (() => Promise<void>) | undefined
}

export function bodyOptions(request: FastifyRequest): BodyOptions {
  return {
    conditions: {
      ifMatch: parseTags(header(request, 'if-match')),
      ifNoneMatch: parseTags(header(request, 'if-none-match'), true),
    },
    digest: digestOf(header(request, 'content-digest')),
  }
}

/**
 * Store `body` by `req` (upload, create, write, append). Chunks are written as they come; a
 * request that fails before its body is stored (a bad name, a lock, a condition) is answered at
 * once, without reading the rest. An aborted body leaves nothing.
 */
export function receiveBody(
  ctx: OpsContext,
  req: BodyRequest,
  body: AsyncIterable<Buffer> | undefined,
  options: BodyOptions,
): Promise<Committed> {
  const receiving = receive(ctx, req, body, options)
  const settled = receiving.then(
    () => undefined,
    () => undefined,
  )
  inProgress.add(settled)
  void settled.then(() => inProgress.delete(settled))
  return receiving
}

/** Bodies being received or committed (their temp files to be removed if they fail). */
const inProgress = new Set<Promise<void>>()

/** Resolves once every body in progress is stored or discarded (the server stops after it). */
export async function bodiesSettled(): Promise<void> {
  await Promise.all(inProgress)
}

async function receive(
  ctx: OpsContext,
  req: BodyRequest,
  body: AsyncIterable<Buffer> | undefined,
  options: BodyOptions,
): Promise<Committed> {
  const receiver = BodyReceiver.open(ctx, req, undefined, options.conditions)
  let arrived = !body
  try {
    if (body) {
      // Socket reads are ~64 KiB: gather a batch, and write it while the next one is read (one
      // write in flight: they append in order). The socket waits only when both are busy.
      let batched = 0
      let writing: Promise<void> | undefined
      for await (const chunk of body) {
        const failure = receiver.failure
        if (failure) throw TandemError.fromWire(failure)
        receiver.add(chunk)
        batched += chunk.length
        if (batched >= WRITE_BATCH) {
          await writing
          batched = 0
          writing = receiver.flush()
        }
      }
      await writing
      arrived = true
    }
    await options.beforeCommit?.()
  } catch (err) {
    // The request's body broke off (the client went away): an interrupted upload. A refusal
    // (the receiver's own failure, a precondition) is only dropped.
    if (!arrived && !receiver.failure) await receiver.abandon()
    else await receiver.discard()
    throw err
  }
  return receiver.finish(ctx, options.digest)
}

/**
 * A GET names what it is for with `?purpose=read` (the page's viewer does): the change log then
 * says `read`. Anything else is a download.
 */
function purposeOf(request: FastifyRequest): ReadPurpose {
  const query = request.query as Record<string, unknown> | undefined
  return query?.['purpose'] === 'read' ? 'read' : 'download'
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}
