/**
 * The short endpoints, at fixed paths without the /api/v1 prefix: upload, download, list, write, append,
 * rename, delete, check_file, log, heartbeat. Each is the same operation the binary protocol runs.
 */
import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { remove, rename } from '../../ops/files.js'
import { list } from '../../ops/listing.js'
import { lockStatus } from '../../ops/user-locks.js'
import { ridOf, type HttpParts } from '../context.js'
import { nameFromPath, twoNamesFromPath } from '../request-parts.js'
import { sendFile } from '../transfer.js'
import { deleteQuery, isRecursive, listQuery, logQuery, withPrefix } from './schemas.js'

export function sourceRoutes(app: FastifyInstance, parts: HttpParts): void {
  const r = app.withTypeProvider<ZodTypeProvider>()
  const tags = ['short endpoints']

  for (const method of ['GET', 'HEAD'] as const)
    r.route({
      method,
      url: '/download/*',
      schema: { tags, summary: 'The bytes of a file (Range, ETag, If-None-Match)' },
      handler: (request, reply) =>
        sendFile(request.ops, nameFromPath(request.url, '/download/'), request, reply),
    })

  r.get(
    '/list',
    {
      schema: {
        tags,
        summary: 'The composite listing, as `ls --json` (?prefix=dir/: a folder’s files)',
        querystring: listQuery,
      },
    },
    async (request) => withPrefix((await list(request.ops)).files, request.query.prefix),
  )

  r.put(
    '/rename/*',
    {
      schema: {
        tags,
        summary: 'Rename <old> to <new>, a file or a folder (slashes inside a name as %2F)',
      },
    },
    async (request) => {
      const [from, to] = twoNamesFromPath(request.url, '/rename/')
      return rename(request.ops, { from, to, rid: ridOf(request) })
    },
  )

  r.delete(
    '/delete/*',
    {
      schema: {
        tags,
        summary: 'Delete a file; a folder with ?recursive=1',
        querystring: deleteQuery,
      },
    },
    async (request) =>
      remove(request.ops, {
        name: nameFromPath(request.url, '/delete/'),
        recursive: isRecursive(request.query),
        rid: ridOf(request),
      }),
  )

  r.get(
    '/check_file/*',
    {
      schema: {
        tags,
        summary: 'Whether a file is locked, by whom, and whether by you',
        querystring: z.object({ ClientId: z.string().optional() }),
      },
    },
    async (request) => lockStatus(request.ops, { name: nameFromPath(request.url, '/check_file/') }),
  )

  r.get(
    '/log',
    {
      schema: {
        tags,
        summary: 'Change-log events after `since` (or the newest)',
        querystring: logQuery,
      },
    },
    async (request) => request.ops.readLog(request.query),
  )

  r.get(
    '/heartbeat',
    { config: { admission: false }, schema: { tags, summary: 'Liveness: name, uptime, peers' } },
    async (request) => {
      const status = await parts.recentStatus(request.ops)
      const up = status.peers.filter((p) => p.state === 'up').length
      return {
        server: status.server.name,
        ok: true,
        uptimeMs: status.server.uptimeMs,
        peers: { up, down: status.peers.length - up },
      }
    },
  )
}
