/**
 * The HTTP worker's entry: a plain worker_thread that listens on the HTTP port itself and serves
 * the fastify app. It asks the main thread for locks, log records, queries, user locks and
 * client slots (MainLink); file work — reading, hashing, writing, fsync — happens here.
 *
 * The port is bound at start, by a bare node:http server (http-server.ts); the app (fastify and
 * its plugins, the routes, the operations layer, zod: ~20 MiB resident) is loaded when the first
 * connection comes, so that a server nobody uses over HTTP does not hold it. The server parses
 * the first requests as it always does; those that arrive while the app loads wait for it, in
 * their order, their bodies unread (see ARCHITECTURE.md, "Memory").
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads'
import type { HttpApp } from './app.js'
import { answerClientError, answerUnloaded, createHttpServer } from './http-server.js'
import { MainLink } from './main-link.js'
import type { HttpWorkerData } from './messages.js'

if (!isMainThread) await serveHttp(workerData as HttpWorkerData, parentPort!, () => process.exit(0))

/** The app and what a shutdown needs of the modules it loaded. */
interface Loaded extends HttpApp {
  endAllStreams(): void
  bodiesSettled(): Promise<void>
}

/**
 * Serve HTTP, talking to the main thread's HttpHost over `port`; `exit` ends the thread after a
 * shutdown. (Also callable in the main thread itself, for measuring where HTTP should run.)
 */
export async function serveHttp(
  data: HttpWorkerData,
  port: MessagePort,
  exit: () => void,
): Promise<void> {
  const main = new MainLink(port)
  const server = createHttpServer(data)
  server.on('clientError', answerClientError) // until the app's own listener takes over
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined
  let loading: Promise<Loaded> | undefined
  // A load that fails is told to the main thread once, its requests are answered ERR_INTERNAL,
  // and a connection after LOAD_RETRY_MS tries again (a passing failure, EMFILE say, is not
  // final; a broken build keeps failing, and every request hears why).
  const load = (): Promise<Loaded> => {
    if (loading) return loading
    const attempt = loadApp(data, main, server).then((loaded) => {
      handler = loaded.handler
      return loaded
    })
    loading = attempt
    attempt.catch((err: unknown) => {
      main.post({ t: 'app-failed', message: String(err) })
      setTimeout(() => {
        if (loading === attempt) loading = undefined
      }, LOAD_RETRY_MS).unref()
    })
    return attempt
  }
  server.on('connection', () => void load().catch(() => undefined))
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (handler) return handler(req, res)
    // Queued behind the load, in arrival order (promise callbacks run in the order they were added).
    load().then(
      (loaded) => loaded.handler(req, res),
      (err: unknown) => answerUnloaded(res, err),
    )
  })
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ port: data.port, host: data.host }, () => {
        server.off('error', reject)
        resolve()
      })
    })
    main.post({ t: 'listening', port: (server.address() as AddressInfo).port })
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    main.post({ t: 'listen-failed', message: e.message, code: e.code })
  }
  main.onShutdown(() => {
    // No new connections; idle ones close; requests in flight finish within the grace period.
    const serverClosed = new Promise((resolve) => server.close(resolve))
    server.closeIdleConnections()
    const force = setTimeout(() => server.closeAllConnections(), data.shutdownGraceMs)
    const appClosed = loading?.then(
      async (loaded) => {
        loaded.refuseNewRequests()
        const closing = loaded.app.close()
        loaded.endAllStreams() // held event streams never end by themselves
        await closing
        await serverClosed
        await loaded.bodiesSettled() // a body cut off by the close removes its temp file first
      },
      () => serverClosed, // never loaded: nothing of the app to close
    )
    void (appClosed ?? serverClosed).finally(() => {
      clearTimeout(force)
      main.flush()
      port.close()
      exit()
    })
  })
}

/** How long after a failed load of the app the next connection tries again. */
const LOAD_RETRY_MS = 5_000

async function loadApp(data: HttpWorkerData, main: MainLink, server: Server): Promise<Loaded> {
  const [{ buildApp }, { endAllStreams }, { bodiesSettled }] = await Promise.all([
    import('./app.js'),
    import('./routes/events.js'),
    import('./transfer.js'),
  ])
  const app = await buildApp(data, main, server)
  return { ...app, endAllStreams, bodiesSettled }
}
