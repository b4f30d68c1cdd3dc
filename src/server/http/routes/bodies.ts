/**
 * The routes that carry a file body: POST /upload (multipart or raw), POST /write/<name>,
 * POST /append/<name>, PUT /api/v1/files/<name>, POST /api/v1/append/<name>. They live in their
 * own context, where no body is parsed: the request stream goes to the operations as it arrives
 * (a JSON `{"content": …}` body for write and append is the one exception, read whole, at most
 * 1 MiB).
 */
import multipart from '@fastify/multipart'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { Readable } from 'node:stream'
import { z } from 'zod'
import { TandemError } from '../../../protocol/index.js'
import type { BodyRequest } from '../../ops/body.js'
import { ridOf } from '../context.js'
import { nameFromPath } from '../request-parts.js'
import { bodyOptions, receiveBody } from '../transfer.js'
import { nameQuery } from './schemas.js'

const MAX_JSON_BODY = 1024 * 1024

export async function bodyRoutes(app: FastifyInstance): Promise<void> {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload))
  await app.register(multipart, {
    // A file part has no limit but the disk (the default would be the 1 MiB JSON body limit).
    limits: {
      fileSize: Infinity,
      files: 4,
      fields: 20,
      fieldSize: 64 * 1024,
      parts: 30,
      headerPairs: 100,
    },
  })
  const r = app.withTypeProvider<ZodTypeProvider>()

  r.post(
    '/upload',
    {
      schema: {
        tags: ['short endpoints'],
        summary:
          'Upload: a multipart form with field "file" (name from its filename, or `name`), or a raw body with ?name=',
        querystring: nameQuery,
      },
    },
    async (request) => {
      if (request.isMultipart()) return (await storeForm(request, request.query.name)).result
      const name = request.query.name
      if (!name) throw new TandemError('ERR_BAD_PATH', 'a raw upload names its file with ?name=')
      return (await store(request, 'upload', name, bodyOf(request))).result
    },
  )

  for (const op of ['write', 'append'] as const)
    r.post(
      `/${op}/*`,
      {
        schema: {
          tags: ['short endpoints'],
          summary: `${op === 'write' ? 'Replace' : 'Append to'} a file's content: the body, or JSON {"content": "…"}`,
        },
      },
      async (request) => {
        const name = nameFromPath(request.url, `/${op}/`)
        return (await store(request, op, name, await textOrBody(request))).result
      },
    )

  r.put(
    '/api/v1/files/*',
    {
      schema: {
        tags: ['files'],
        summary: 'Create or replace a file with the body (201 when created)',
      },
    },
    async (request, reply) => {
      const name = nameFromPath(request.url, '/api/v1/files/')
      const done = await store(request, 'upload', name, bodyOf(request))
      return reply.code(done.created ? 201 : 200).send(done.result)
    },
  )

  r.post(
    '/api/v1/append/*',
    { schema: { tags: ['files'], summary: 'Append the body to a file' } },
    async (request) =>
      (
        await store(
          request,
          'append',
          nameFromPath(request.url, '/api/v1/append/'),
          bodyOf(request),
        )
      ).result,
  )
}

/**
 * An upload by multipart form: the part "file" is stored under `?name=`, else the `name` field
 * sent before it, else its filename. The file is held in its temp file until the form has ended,
 * so that a form that breaks off, or a `name` field sent after the file (which would have named
 * it otherwise), stores nothing.
 */
async function storeForm(request: FastifyRequest, queryName: string | undefined) {
  const before: Record<string, string> = {}
  let receiving: ReturnType<typeof store> | undefined
  let lateName = false
  let formEnded!: (error?: unknown) => void
  const formDone = new Promise<void>((resolve, reject) => {
    formEnded = (error) => (error === undefined ? resolve() : reject(error))
  })
  formDone.catch(() => undefined) // awaited by the receiver, or never when there is no file
  try {
    for await (const part of request.parts()) {
      if (part.type === 'field') {
        if (receiving) lateName ||= part.fieldname === 'name' && queryName === undefined
        else before[part.fieldname] = String(part.value)
        continue
      }
      if (part.fieldname !== 'file' || receiving) {
        part.file.resume() // another file field: read and dropped
        continue
      }
      const name = queryName ?? before.name ?? part.filename
      if (!name)
        throw new TandemError('ERR_BAD_PATH', 'no name: give the file a filename, or `name`')
      receiving = store(request, 'upload', name, part.file, () => formDone)
      // The receiver reads the file's bytes; the next part comes once they are in — unless the
      // receiver refused them first (a lock, a bad name), which ends the form here.
      const file = part.file
      const fileEnded = new Promise<undefined>((resolve) => {
        if (file.readableEnded || file.destroyed) resolve(undefined)
        else file.once('close', () => resolve(undefined)).once('end', () => resolve(undefined))
      })
      const refused = receiving.then(
        () => undefined,
        (err: unknown) => ({ err }),
      )
      const early = await Promise.race([fileEnded, refused])
      if (early) throw early.err
      if (part.file.truncated) throw new TandemError('ERR_TOO_LARGE', 'the form was cut short')
    }
    if (!receiving) throw new TandemError('ERR_BAD_REQUEST', 'the form has no "file" field')
    if (lateName)
      throw new TandemError(
        'ERR_BAD_REQUEST',
        'the form names its file after the file part: send the "name" field first (or ?name=)',
      )
    formEnded()
  } catch (err) {
    formEnded(err)
    await receiving?.catch(() => undefined) // its temp file removed before the answer
    throw err
  }
  return receiving
}

function store(
  request: FastifyRequest,
  op: BodyRequest['op'],
  name: string,
  body: AsyncIterable<Buffer> | undefined,
  beforeCommit?: () => Promise<void>,
) {
  const length = Number(request.headers['content-length'])
  const rid = ridOf(request)
  const req: BodyRequest =
    op === 'upload'
      ? {
          id: 0,
          op,
          name,
          ...(rid === undefined ? {} : { rid }),
          ...(Number.isSafeInteger(length) && !request.isMultipart() ? { size: length } : {}),
        }
      : { id: 0, op, name, ...(rid === undefined ? {} : { rid }) }
  return receiveBody(request.ops, req, body, { ...bodyOptions(request), beforeCommit })
}

function bodyOf(request: FastifyRequest): AsyncIterable<Buffer> | undefined {
  return request.body as Readable | undefined
}

/** A write's or append's body: JSON `{"content": "…"}`, or the bytes as they are. */
async function textOrBody(request: FastifyRequest): Promise<AsyncIterable<Buffer> | undefined> {
  const type = request.headers['content-type'] ?? ''
  if (!/^application\/json\b/i.test(type)) return bodyOf(request)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of bodyOf(request) ?? []) {
    size += (chunk as Buffer).length
    if (size > MAX_JSON_BODY)
      throw new TandemError('ERR_TOO_LARGE', `a JSON body is at most ${MAX_JSON_BODY} bytes`)
    chunks.push(chunk as Buffer)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new TandemError('ERR_BAD_REQUEST', 'the body is not valid JSON')
  }
  const content = z.object({ content: z.string() }).safeParse(parsed)
  if (!content.success)
    throw new TandemError('ERR_BAD_REQUEST', 'a JSON body is {"content": "<text>"}')
  return Readable.from([Buffer.from(content.data.content, 'utf8')])
}
