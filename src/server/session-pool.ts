/**
 * The pool of session workers. No thread starts with the server: the first starts with the first
 * session, which waits for it (~95 ms here: the thread and the session code it loads), and the
 * next when a session begins and the sessions then outnumber the threads: it is started with a
 * task that does nothing (workers/warm-up.ts), so that it is ready for the clients after; the
 * session that started it does not wait for it. A server no client has used thus holds no session
 * thread (~15 MiB each; see ARCHITECTURE.md, "Memory"), and a started thread stays. Sessions go
 * to an idle thread first, else to the least busy one, as with Piscina's own balancer.
 */
import { fileURLToPath } from 'node:url'
import { Piscina } from 'piscina'
import { SMALL_YOUNG_GENERATION } from './workers/young-generation.js'

const SESSION_WORKER = new URL('./session/worker.js', import.meta.url).href
const WARM_UP = new URL('./workers/warm-up.js', import.meta.url).href
/** As the balancer sees a task's file (Piscina gives it as a path). */
const WARM_UP_PATH = fileURLToPath(WARM_UP)

type Balancer = NonNullable<NonNullable<ConstructorParameters<typeof Piscina>[0]>['loadBalancer']>

/** How long destroy() waits for threads still starting (or loading the warm-up) at most. */
const START_WAIT_MS = 10_000

export class SessionPool extends Piscina {
  readonly #threads: number
  #sessions = 0
  #warming = false
  /** The warm-up is on a thread (loading its module or running), not waiting in the queue. */
  readonly #warmUp: { posted: boolean }
  /** Threads that have started (Piscina's 'workerCreate' comes once a thread is ready). */
  readonly #ready = new Set<unknown>()

  /** `filename`: the task's module (tests give their own; the server, the session worker). */
  constructor(threads: number, maxClients: number, filename: string = SESSION_WORKER) {
    // A session is a long-lived async task; a thread runs several at once.
    const perThread = Math.ceil(maxClients / threads)
    // How many threads there are (started or starting): known once the pool exists.
    const threadCount = { now: (): number => threads }
    const warmUp = { posted: false }
    const balancer: Balancer = (task, workers) => {
      const isWarmUp = task.filename === WARM_UP_PATH
      let best: (typeof workers)[number] | null = null
      for (const worker of workers) {
        if (worker.currentUsage === 0) {
          if (isWarmUp) warmUp.posted = true
          return worker
        }
        if (worker.currentUsage < perThread && (!best || worker.currentUsage < best.currentUsage))
          best = worker
      }
      // A warm-up finds no idle thread: none, so that Piscina starts one and runs it there.
      if (isWarmUp && threadCount.now() < threads) return null
      if (isWarmUp && best) warmUp.posted = true
      return best
    }
    super({
      filename,
      minThreads: 0,
      maxThreads: threads,
      // A thread once started stays: the pool only grows, up to `threads`.
      idleTimeout: Infinity,
      concurrentTasksPerWorker: perThread,
      // The default 'sync' atomics freeze a worker's timers and ports between tasks.
      atomics: 'disabled',
      resourceLimits: SMALL_YOUNG_GENERATION,
      loadBalancer: balancer,
    })
    threadCount.now = () => this.threads.length
    this.#threads = threads
    this.#warmUp = warmUp
    this.on('workerCreate', (worker: unknown) => this.#ready.add(worker))
    this.on('workerDestroy', (worker: unknown) => this.#ready.delete(worker))
  }

  /**
   * Terminate the threads, once none is still starting or loading the warm-up's module: Node
   * aborts the whole process (a V8 fatal error, "IsGraphAsync must be used on an instantiated
   * module") when a thread is terminated while it instantiates a module. A thread started by the
   * last clients may still be starting when the server stops. Bounded: a thread that never
   * starts is terminated after START_WAIT_MS anyway.
   */
  override async destroy(): Promise<void> {
    const deadline = Date.now() + START_WAIT_MS
    while (
      (this.#ready.size < this.threads.length || (this.#warming && this.#warmUp.posted)) &&
      Date.now() < deadline
    )
      await new Promise((resolve) => setTimeout(resolve, 10))
    return super.destroy()
  }

  /**
   * Run a session; when sessions outnumber the threads (one thread runs two), start the next
   * thread. Its warm-up task carries an AbortSignal, which makes Piscina keep it aside (its
   * "skip queue") rather than in the queue that sessions would wait behind: sessions go on to
   * the threads that run, and the new one takes the warm-up, then sessions, once it is ready.
   */
  override run(task: unknown, options?: Parameters<Piscina['run']>[1]): Promise<unknown> {
    const running = super.run(task, options)
    this.#sessions++
    void running.then(
      () => this.#sessions--,
      () => this.#sessions--,
    )
    const started = this.threads.length
    if (!this.#warming && started < this.#threads && this.#sessions > started) {
      this.#warming = true
      super
        .run(undefined, { filename: WARM_UP, signal: new AbortController().signal })
        .catch(() => undefined) // a thread that cannot start: Piscina's own handling, as before
        .finally(() => {
          this.#warming = false
          this.#warmUp.posted = false
        })
    }
    return running
  }
}
