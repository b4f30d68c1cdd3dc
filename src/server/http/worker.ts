/**
 * The HTTP worker's entry: a plain worker_thread that listens on the HTTP port itself and serves
 * the fastify app. It asks the main thread for locks, log records, queries, user locks and
 * client slots (MainLink); file work — reading, hashing, writing, fsync — happens here.
 */
import { workerData } from 'node:worker_threads'
import type { AddressInfo } from 'node:net'
import { buildApp } from './app.js'
import { MainLink } from './main-link.js'
import { endAllStreams } from './routes/events.js'
import type { HttpWorkerData } from './messages.js'

const data = workerData as HttpWorkerData
const main = new MainLink()
const app = await buildApp(data, main)

try {
  await app.listen({ port: data.port, host: data.host })
  main.post({ t: 'listening', port: (app.server.address() as AddressInfo).port })
} catch (err) {
  const e = err as NodeJS.ErrnoException
  main.post({ t: 'listen-failed', message: e.message, code: e.code })
}

main.onShutdown(() => {
  // No new connections; idle ones close; requests in flight finish within the grace period.
  const closing = app.close()
  endAllStreams() // held event streams never end by themselves
  const force = setTimeout(() => app.server.closeAllConnections(), data.shutdownGraceMs)
  void closing.finally(() => {
    clearTimeout(force)
    process.exit(0)
  })
})
