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
import { nameFromPath } from '../request-parts.js'
import { bodyOptions, receiveBody } from '../transfer.js'
import { nameQuery } from './schemas.js'

const MAX_JSON_BODY = 1024 * 1024

export async function bodyRoutes(app: FastifyInstance): Promise<void> {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload))
  await app.register(multipart, {
    limits: { files: 1, fields: 20, fieldSize: 64 * 1024, parts: 30, headerPairs: 100 },
  })
  const r = app.withTypeProvider<ZodTypeProvider>()

  r.post(
    '/upload',
    {
      schema: {
        tags: ['source design'],
        summary:
          'Upload: a multipart form with field "file" (name from its filename, or `name`), or a raw body with ?name=',
        querystring: nameQuery,
      },
    },
    async (request) => {
      if (request.isMultipart()) {
        const part = await request.file()
        if (!part) throw new TandemError('ERR_BAD_REQUEST', 'the form has no "file" field')
        if (part.fieldname !== 'file')
          throw new TandemError(
            'ERR_BAD_REQUEST',
            `expected the field "file", not "${part.fieldname}"`,
          )
        const field = part.fields.name
        const fromField =
          field && !Array.isArray(field) && field.type === 'field' ? String(field.value) : undefined
        const name = request.query.name ?? fromField ?? part.filename
        if (!name)
          throw new TandemError('ERR_BAD_PATH', 'no name: give the file a filename, or `name`')
        const done = await store(request, 'upload', name, part.file)
        if (part.file.truncated) throw new TandemError('ERR_TOO_LARGE', 'the form was cut short')
        return done.result
      }
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
          tags: ['source design'],
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

function store(
  request: FastifyRequest,
  op: BodyRequest['op'],
  name: string,
  body: AsyncIterable<Buffer> | undefined,
) {
  const length = Number(request.headers['content-length'])
  const req: BodyRequest =
    op === 'upload'
      ? {
          id: 0,
          op,
          name,
          ...(Number.isSafeInteger(length) && !request.isMultipart() ? { size: length } : {}),
        }
      : { id: 0, op, name }
  return receiveBody(request.ops, req, body, bodyOptions(request))
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
