/**
 * The HTTP front end as a fastify app: limits, schemas (zod, also the OpenAPI document), errors,
 * admission, the routes. It runs in the HTTP worker; every route calls the operations layer with
 * a context for the request's client, whose locks, log and user locks are the main thread's.
 */
import swagger from '@fastify/swagger'
import Fastify, { type FastifyInstance } from 'fastify'
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod'
import type http from 'node:http'
import { TandemError, type StatusResult } from '../../protocol/index.js'
import { describeFailure } from '../console.js'
import type { OpsContext } from '../ops/context.js'
import { indexView } from '../ops/index-view.js'
import { PrimaryLink } from '../forward/primary-link.js'
import { mainContext } from '../session/link-adapters.js'
import { FileStore } from '../storage/file-store.js'
import { VERSION } from '../version.js'
import { HttpAdmission } from './admission.js'
import type { HttpParts } from './context.js'
import type { MainLink } from './main-link.js'
import type { HttpWorkerData } from './messages.js'
import { answerMoved } from './moved.js'
import { registerPage } from './page.js'
import { answerClientError } from './http-server.js'
import { sendError, wireErrorOf } from './replies.js'
import { clientIdOf, crossSiteRefusal } from './request-parts.js'
import { apiRoutes } from './routes/api.js'
import { bodyRoutes } from './routes/bodies.js'
import { sourceRoutes } from './routes/source.js'

const HEARTBEAT_STATUS_MS = 500
/** Clients whose operations' context is kept for their next request. */
const MAX_CONTEXTS = 1024

export interface HttpApp {
  readonly app: FastifyInstance
  /** Serves one request of the server. */
  readonly handler: http.RequestListener
  /** From now on new requests get 503 ERR_SHUTTING_DOWN (those in flight go on). */
  refuseNewRequests(): void
}

/**
 * Build the app on `server` (created and listening already: http-server.ts). It does not listen
 * itself: the caller feeds it the server's requests through `handler`, and closes the server.
 */
export async function buildApp(
  data: HttpWorkerData,
  main: MainLink,
  server: http.Server,
): Promise<HttpApp> {
  let stopping = false
  let onRequest: http.RequestListener | undefined
  const app = Fastify({
    logger: false,
    bodyLimit: 1024 * 1024,
    return503OnClosing: false, // answered below, as JSON like every error
    forceCloseConnections: 'idle',
    exposeHeadRoutes: false,
    clientErrorHandler: answerClientError,
    routerOptions: { maxParamLength: 8192, ignoreTrailingSlash: false },
    serverFactory: (handler) => {
      // Until now the server answered refused requests itself; fastify's listener (the same
      // function) is added right after this returns, synchronously: never both, never neither.
      server.off('clientError', answerClientError)
      onRequest = handler
      return server
    },
  })
  // A body these routes do not parse (no or another Content-Type) is fine when empty: node:http
  // sends a bodyless PUT or POST as an empty chunked body.
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => {
    if ((body as Buffer).length === 0) return done(null, undefined)
    done(new TandemError('ERR_BAD_REQUEST', 'this endpoint takes a JSON body (application/json)'))
  })
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'tandem HTTP API',
        version: VERSION,
        description: 'Files, locks and the change log of one tandem server (see docs/HTTP.md).',
      },
    },
    transform: jsonSchemaTransform,
  })

  const store = new FileStore(data.root)
  const index = indexView(data.stateDir, data.serverName)
  const admission = new HttpAdmission(main)
  const config = { serverName: data.serverName, root: data.root }
  // One context per client, reused by its requests (an HTTP request ends through its streams:
  // a body that breaks off errors, a download's stream is destroyed; nothing waits on a signal).
  const onLoopback = /^(127\.|localhost$|::1$)/.test(data.host)
  const contexts = new Map<string, OpsContext>()
  const never = new AbortController().signal
  const opsFor = (client: string): OpsContext => {
    let ctx = contexts.get(client)
    if (!ctx) {
      ctx = mainContext(main, { config, store, client: { id: client }, signal: never, index })
      // At a secondary, each HTTP client's writes go to the primary in its own name.
      // (A context dropped from the map closes its link's connection once idle.)
      if (data.primary !== null) {
        const link = new PrimaryLink({
          primary: data.primary,
          clientId: client,
          serverName: data.serverName,
          version: VERSION,
        })
        ctx = { ...ctx, forward: link }
      }
      contexts.set(client, ctx)
      if (contexts.size > MAX_CONTEXTS) contexts.delete(contexts.keys().next().value!)
    }
    return ctx
  }

  app.decorateRequest('ops', null as unknown as OpsContext)
  app.decorateRequest('clientId', '')
  app.addHook('onRequest', (request, reply, done) => {
    const address = request.socket.remoteAddress ?? 'unknown'
    const query = request.query as Record<string, unknown>
    let client: string
    try {
      client = clientIdOf(request.headers['x-tandem-client-id'], query.ClientId, address)
    } catch (err) {
      return done(err as Error)
    }
    request.clientId = client
    request.ops = opsFor(client)
    const crossSite = crossSiteRefusal(request.method, request.headers, onLoopback)
    if (crossSite) return void sendError(reply, { code: 'ERR_CROSS_SITE', message: crossSite })
    // (A hook that answers does not call done: the answer ends the request.)
    if (stopping)
      return void sendError(reply, { code: 'ERR_SHUTTING_DOWN', message: 'the server is stopping' })
    if (request.routeOptions.config.admission === false || request.is404) return done()
    const entered = admission.enter(client, address)
    if (entered === true) {
      reply.raw.once('close', () => admission.leave(client))
      return done()
    }
    // Listened for before the wait: a client gone while its slot was asked for gives it back.
    let state = 'asking' as 'asking' | 'admitted' | 'closed'
    reply.raw.once('close', () => {
      if (state === 'admitted') admission.leave(client)
      state = 'closed'
    })
    entered.then(
      (refusal) => {
        if (refusal) return void sendError(reply, refusal)
        if (state === 'closed') admission.leave(client)
        else state = 'admitted'
        done()
      },
      (err: unknown) => done(err as Error),
    )
  })
  app.setErrorHandler((err, request, reply) => {
    const wire = wireErrorOf(err, (e) =>
      console.error(`[http ${request.method} ${request.url}] ${describeFailure(e).join('\n')}`),
    )
    if (reply.sent || reply.raw.headersSent) return reply.raw.destroy()
    // Held at other members (--replicas): 307 to one of them, or a read proxied from it.
    if (wire.code === 'ERR_MOVED') return answerMoved(request, reply, wire, data.proxyReads)
    return sendError(reply, wire)
  })
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, {
      code: 'ERR_NOT_FOUND',
      message: `no such endpoint: ${request.method} ${request.url.split('?')[0]}`,
    }),
  )

  let cached: { at: number; status: Promise<StatusResult> } | undefined
  const parts: HttpParts = {
    main,
    recentStatus: (ops) => {
      const now = Date.now()
      if (!cached || now - cached.at > HEARTBEAT_STATUS_MS) {
        cached = { at: now, status: ops.status() }
        cached.status.catch(() => (cached = undefined))
      }
      return cached.status
    },
  }
  sourceRoutes(app, parts)
  apiRoutes(app, parts)
  registerPage(app)
  await app.register(bodyRoutes)
  await app.ready()
  return { app, handler: onRequest!, refuseNewRequests: () => (stopping = true) }
}
