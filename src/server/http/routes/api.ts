/**
 * The canonical API under /api/v1/ (files, rename, stat, locks, log, status, the event stream and
 * this API's own description), over the same operations as everything else. The file bodies'
 * routes are in bodies.ts.
 */
import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { remove, rename } from '../../ops/files.js'
import { list, stat } from '../../ops/listing.js'
import { lock, lockStatus, unlock } from '../../ops/user-locks.js'
import { ridOf, type HttpParts } from '../context.js'
import { nameFromPath } from '../request-parts.js'
import { bodyOptions, sendFile } from '../transfer.js'
import { streamEvents } from './events.js'
import { deleteQuery, isRecursive, listQuery, logQuery, withPrefix } from './schemas.js'

const name = z.string().min(1).max(8192)

export function apiRoutes(app: FastifyInstance, parts: HttpParts): void {
  const r = app.withTypeProvider<ZodTypeProvider>()

  r.get(
    '/api/v1/files',
    {
      schema: {
        tags: ['files'],
        summary: 'The composite listing (?prefix=dir/: the files under a folder)',
        querystring: listQuery,
      },
    },
    async (request) => ({
      files: withPrefix((await list(request.ops)).files, request.query.prefix),
    }),
  )
  for (const method of ['GET', 'HEAD'] as const)
    r.route({
      method,
      url: '/api/v1/files/*',
      schema: { tags: ['files'], summary: 'The bytes of a file (Range, ETag, If-None-Match)' },
      handler: (request, reply) =>
        sendFile(request.ops, nameFromPath(request.url, '/api/v1/files/'), request, reply),
    })
  r.delete(
    '/api/v1/files/*',
    {
      schema: {
        tags: ['files'],
        summary: 'Delete a file (If-Match honoured); a folder with ?recursive=1',
        querystring: deleteQuery,
      },
    },
    (request) => {
      const { conditions } = bodyOptions(request)
      const name = nameFromPath(request.url, '/api/v1/files/')
      return remove(
        request.ops,
        { name, recursive: isRecursive(request.query), rid: ridOf(request) },
        conditions,
      )
    },
  )
  r.get(
    '/api/v1/stat/*',
    { schema: { tags: ['files'], summary: "A file's listing row" } },
    (request) => stat(request.ops, { name: nameFromPath(request.url, '/api/v1/stat/') }),
  )
  r.post(
    '/api/v1/rename',
    {
      schema: {
        tags: ['files'],
        summary: 'Rename a file, or a folder with everything in it',
        body: z.object({ from: name, to: name }),
      },
    },
    (request) => rename(request.ops, { ...request.body, rid: ridOf(request) }),
  )

  r.get(
    '/api/v1/locks',
    { schema: { tags: ['locks'], summary: 'Every user lock, here and at the peers' } },
    (request) => ({
      locks: request.ops.index.locks(),
    }),
  )
  r.get(
    '/api/v1/locks/*',
    { schema: { tags: ['locks'], summary: "A file's lock status" } },
    async (request) =>
      lockStatus(request.ops, { name: nameFromPath(request.url, '/api/v1/locks/') }),
  )
  r.post(
    '/api/v1/locks/*',
    {
      schema: {
        tags: ['locks'],
        summary: 'Lock a file for this client (peers queue their updates until the unlock)',
        body: z
          .object({
            ttlSeconds: z
              .number()
              .int()
              .min(1)
              .max(10 * 365 * 86_400)
              .optional(),
          })
          .nullish(),
      },
    },
    (request) =>
      lock(request.ops, {
        name: nameFromPath(request.url, '/api/v1/locks/'),
        ttlSeconds: request.body?.ttlSeconds,
        rid: ridOf(request),
      }),
  )
  r.delete(
    '/api/v1/locks/*',
    {
      schema: {
        tags: ['locks'],
        summary: "Unlock a file (force: another client's lock); the queued updates are applied",
        querystring: z.object({ force: z.enum(['true', 'false', '1', '0']).optional() }),
      },
    },
    (request) =>
      unlock(request.ops, {
        name: nameFromPath(request.url, '/api/v1/locks/'),
        force: request.query.force === 'true' || request.query.force === '1',
        rid: ridOf(request),
      }),
  )

  r.get(
    '/api/v1/log',
    {
      schema: {
        tags: ['log'],
        summary: 'Change-log events after `since` (or the newest)',
        querystring: logQuery,
      },
    },
    async (request) => ({ entries: await request.ops.readLog(request.query) }),
  )
  r.get(
    '/api/v1/events',
    {
      schema: {
        tags: ['log'],
        summary: 'Server-Sent Events: the change log, live; resumes after Last-Event-ID or ?since',
        querystring: z.object({
          since: z.coerce.number().int().nonnegative().optional(),
          ClientId: z.string().optional(),
        }),
      },
    },
    (request, reply) => streamEvents(request, reply, parts.main, request.query.since),
  )
  r.get(
    '/api/v1/status',
    { schema: { tags: ['status'], summary: 'As `status --json`' } },
    (request) => request.ops.status(),
  )
  r.get('/api/v1/openapi.json', { config: { admission: false }, schema: { hide: true } }, () =>
    app.swagger(),
  )
}
