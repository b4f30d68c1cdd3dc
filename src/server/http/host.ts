/**
 * The main thread's side of the HTTP worker: starts it, answers its calls (the same services a
 * session worker gets, through MainServices), admits its clients against the server's client
 * slots, and stops it. HTTP runs in its own thread so that hashing and writing bodies never runs
 * in the main thread, whose accept loop and session bridges must stay responsive.
 */
import { EventEmitter, once } from 'node:events'
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads'
import { TandemError, type WireError } from '../../protocol/errors.js'
import type { ServerCore } from '../core.js'
import { isServiceMessage, MainServices } from '../net/main-services.js'
import { unbatch } from '../workers/request-reply.js'
import { SMALL_YOUNG_GENERATION } from '../workers/young-generation.js'
import type { FromHttpWorker, HttpWorkerData, ToHttpWorker } from './messages.js'

/** An HTTP worker that ends sooner than this after its start is not started again. */
const RESTART_AFTER_MS = 10_000

/** One HTTP client holding a slot: for `status`. */
export interface HttpClient {
  clientId: string
  address: string
  since: number
}

export class HttpHost {
  readonly clients = new Map<string, HttpClient>()
  #worker: HttpThread
  #services: MainServices
  #stopping = false
  #exited = false
  port = 0

  private constructor(
    private readonly core: ServerCore,
    private readonly data: { -readonly [K in keyof HttpWorkerData]: HttpWorkerData[K] },
  ) {
    ;({ worker: this.#worker, services: this.#services } = this.#spawn())
  }

  /** Start the HTTP worker and wait until it listens (rejects with the listen error). */
  static async start(core: ServerCore, port: number): Promise<HttpHost> {
    const { config } = core
    const host = new HttpHost(core, {
      serverName: config.name,
      root: config.root,
      stateDir: config.stateDir,
      host: config.host,
      port,
      idleTimeoutMs: config.idleTimeoutMs,
      headersTimeoutMs: config.httpHeadersTimeoutMs,
      maxConnections: config.maxHttpConnections,
      shutdownGraceMs: config.shutdownGraceMs,
      primary: config.primary,
      proxyReads: config.proxyReads,
    })
    host.port = await host.#listening()
    // A worker started again after a crash listens where this one does (not on a new free port).
    host.data.port = host.port
    return host
  }

  #spawn(): { worker: HttpThread; services: MainServices } {
    const worker = startThread(this.data)
    const post = (message: ToHttpWorker): void => worker.postMessage(message)
    // The worker names the client of each call (it serves many).
    const services = new MainServices(this.core, post, (claimed) => claimed)
    worker.on('message', (message: FromHttpWorker) => this.#onMessage(message, services, post))
    worker.on('error', (err) => {
      if (!this.#stopping) this.core.console.warn(`the HTTP worker failed: ${String(err)}`)
    })
    const startedAt = Date.now()
    worker.on('exit', () => {
      this.#exited = true
      services.end()
      this.#releaseAll()
      if (this.#stopping) return
      if (Date.now() - startedAt < RESTART_AFTER_MS) {
        this.core.console.warn('the HTTP worker stopped again at once; HTTP is off until a restart')
        return
      }
      // A crashed HTTP thread is started again: binary clients never noticed.
      this.core.console.warn('the HTTP worker stopped; starting it again')
      ;({ worker: this.#worker, services: this.#services } = this.#spawn())
      this.#listening().then(
        (port) => (this.port = port),
        (err: unknown) => this.core.console.warn(`HTTP could not listen again: ${String(err)}`),
      )
    })
    this.#exited = false
    return { worker, services }
  }

  /** Resolves with the port once the worker listens; rejects if it cannot, or ends first. */
  #listening(): Promise<number> {
    const worker = this.#worker
    return new Promise((resolve, reject) => {
      const done = (): void => {
        worker.off('message', onMessage)
        worker.off('exit', onExit)
      }
      const onMessage = (batch: FromHttpWorker): void => {
        const message = unbatch(batch).find((m) => m.t === 'listening' || m.t === 'listen-failed')
        if (message?.t === 'listening') {
          done()
          resolve(message.port)
        } else if (message?.t === 'listen-failed') {
          done()
          this.#stopping = true
          void worker.terminate()
          const err = new Error(`HTTP port ${this.data.port}: ${message.message}`)
          reject(Object.assign(err, { code: message.code }))
        }
      }
      const onExit = (): void => {
        done()
        this.#stopping = true
        reject(new Error('the HTTP worker ended before it listened'))
      }
      worker.on('message', onMessage)
      worker.on('exit', onExit)
    })
  }

  #onMessage(
    message: FromHttpWorker,
    services: MainServices,
    post: (message: ToHttpWorker) => void,
  ): void {
    if (isServiceMessage(message)) return services.handle(message)
    switch (message.t) {
      case 'batch':
        for (const one of message.messages) this.#onMessage(one, services, post)
        return
      case 'admit':
        return post({ t: 'reply', req: message.req, value: this.#admit(message) })
      case 'leave':
        if (this.clients.delete(message.client)) this.core.admission.release()
        return
      case 'app-failed':
        return this.core.console.warn(
          `HTTP: the web app could not be loaded (${message.message}); its requests are answered ERR_INTERNAL until a later connection loads it`,
        )
      default:
        return
    }
  }

  #admit(message: { client: string; address: string }): WireError | undefined {
    if (this.core.stopping)
      return new TandemError('ERR_SHUTTING_DOWN', 'the server is stopping').toWire()
    if (this.clients.has(message.client)) return undefined // (a slot already held: cannot happen)
    if (!this.core.admission.tryAdmit()) {
      const { count, max } = this.core.admission
      this.core.console.warn(
        `refused HTTP client ${message.client} (${message.address}): busy, ${count}/${max} clients`,
      )
      return new TandemError(
        'ERR_BUSY',
        `the server serves its maximum of ${max} clients; retry later`,
        { retryAfterMs: this.core.config.busyRetryAfterMs },
      ).toWire()
    }
    this.clients.set(message.client, {
      clientId: message.client,
      address: message.address,
      since: Date.now(),
    })
    return undefined
  }

  #releaseAll(): void {
    for (let i = 0; i < this.clients.size; i++) this.core.admission.release()
    this.clients.clear()
  }

  /** Stop: requests in flight finish (within the grace period), then the thread ends. */
  async stop(): Promise<void> {
    if (this.#stopping && this.#exited) return
    this.#stopping = true
    if (this.#exited) return this.#services.end()
    const exited = once(this.#worker, 'exit')
    this.#worker.postMessage({ t: 'shutdown' } satisfies ToHttpWorker)
    const timer = setTimeout(() => void this.#worker.terminate(), this.data.shutdownGraceMs + 2_000)
    await exited
    clearTimeout(timer)
    this.#services.end()
  }
}

/** What the host needs of the HTTP thread: a Worker, or (for measurement) the main thread itself. */
type HttpThread = EventEmitter & Pick<Worker, 'postMessage' | 'terminate'>

/**
 * The HTTP worker; with TANDEM_HTTP_THREAD=main the same app runs in the main thread instead,
 * over a channel (only to measure what a separate thread buys: see ARCHITECTURE.md).
 */
function startThread(data: HttpWorkerData): HttpThread {
  const entry = new URL('./worker.js', import.meta.url)
  if (process.env.TANDEM_HTTP_THREAD !== 'main')
    return new Worker(entry, { workerData: data, resourceLimits: SMALL_YOUNG_GENERATION })
  return new InMainThread(data)
}

class InMainThread extends EventEmitter {
  readonly #port: MessagePort

  constructor(data: HttpWorkerData) {
    super()
    const { port1, port2 } = new MessageChannel()
    this.#port = port1
    port1.on('message', (message) => this.emit('message', message))
    const exit = (): void => {
      port1.close()
      this.emit('exit', 0)
    }
    import('./worker.js').then(
      (m) => m.serveHttp(data, port2, exit),
      (err: unknown) => this.emit('error', err),
    )
  }

  postMessage(message: unknown): void {
    this.#port.postMessage(message)
  }

  async terminate(): Promise<number> {
    this.#port.close()
    this.emit('exit', 1)
    return 1
  }
}
