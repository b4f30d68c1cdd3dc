/**
 * The HTTP worker's entry: a plain worker_thread that listens on the HTTP port itself and serves
 * the fastify app. It asks the main thread for locks, log records, queries, user locks and
 * client slots (MainLink); file work — reading, hashing, writing, fsync — happens here.
 */
import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads'
import type { AddressInfo } from 'node:net'
import { buildApp } from './app.js'
import { MainLink } from './main-link.js'
import { endAllStreams } from './routes/events.js'
import { bodiesSettled } from './transfer.js'
import type { HttpWorkerData } from './messages.js'

if (!isMainThread) await serveHttp(workerData as HttpWorkerData, parentPort!, () => process.exit(0))

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
  const { app, refuseNewRequests } = await buildApp(data, main)
  try {
    await app.listen({ port: data.port, host: data.host })
    main.post({ t: 'listening', port: (app.server.address() as AddressInfo).port })
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    main.post({ t: 'listen-failed', message: e.message, code: e.code })
  }
  main.onShutdown(() => {
    // No new connections; idle ones close; requests in flight finish within the grace period.
    refuseNewRequests()
    const closing = app.close()
    endAllStreams() // held event streams never end by themselves
    const force = setTimeout(() => app.server.closeAllConnections(), data.shutdownGraceMs)
    void closing
      .then(() => bodiesSettled()) // a body cut off by the close removes its temp file first
      .finally(() => {
        clearTimeout(force)
        main.flush()
        port.close()
        exit()
      })
  })
}
