/**
 * A thread's garbage collection once its last session has ended: each session thread's, and the
 * main thread's after its last binary session (core.ts). A session's bytes travel
 * in transferred ArrayBuffers (socket reads, file blocks), off the V8 heap: a thread's small heap
 * (1 MiB semi-spaces, workers/young-generation.ts) hardly ever needs a major GC, and only a major
 * GC frees the ArrayBuffers that reached the old space. After a busy session a thread could thus
 * keep tens of MiB of dead buffers resident while it sat idle, and the next clients' buffers
 * came on top of them. So when the thread's last session ends, the thread waits IDLE_MS (a client
 * that reconnects at once does not pay for it) and, if it still has no session and holds more
 * than MIN_BYTES of ArrayBuffers, lets its spare read buffers go (storage/read-buffers.ts) and runs
 * one full GC (~10 ms for a session thread's heap). Never while a session runs. See
 * ARCHITECTURE.md, "Memory".
 */
import v8 from 'node:v8'
import vm from 'node:vm'
import { dropSpareReadBuffers } from '../storage/read-buffers.js'

/** How long after the last session ends the thread collects. */
export const IDLE_MS = 200
/** Below this many bytes of ArrayBuffers a collect is not worth its pause. */
export const MIN_BYTES = 1024 * 1024

/** What a collector needs; the defaults are the real ones (tests give their own reading). */
export interface IdleCollectOptions {
  idleMs?: number
  minBytes?: number
  /** Bytes of ArrayBuffers this thread holds (its isolate's, not the process's). */
  arrayBufferBytes?: () => number
  /** A full GC (by default after letting the spare read buffers go). */
  collect?: () => void
}

let exposedGc: (() => void) | undefined

/**
 * Called on the main thread before any worker starts (bin/tandem.ts): every thread started after
 * it has V8's `gc` global, without `--expose-gc` on the command line.
 */
export function exposeGcToWorkers(): void {
  v8.setFlagsFromString('--expose-gc')
}

/**
 * V8's gc(): the thread's global when the flag was set before it started; otherwise (a collector
 * in a thread started without it, as in tests) the flag is set now and a new, throw-away context
 * hands it over. Looked up once per thread, at the first collect.
 */
export function fullGc(): void {
  if (!exposedGc) {
    const global = (globalThis as { gc?: () => void }).gc
    if (global) exposedGc = global
    else {
      v8.setFlagsFromString('--expose-gc')
      exposedGc = vm.runInNewContext('gc') as () => void
    }
  }
  exposedGc()
}

export class IdleCollector {
  readonly #idleMs: number
  readonly #minBytes: number
  readonly #arrayBufferBytes: () => number
  readonly #collect: () => void
  #sessions = 0
  #timer: NodeJS.Timeout | undefined
  /** Collects run so far (and idle checks that found too little to collect): for tests. */
  collects = 0
  skipped = 0

  constructor(options: IdleCollectOptions = {}) {
    this.#idleMs = options.idleMs ?? IDLE_MS
    this.#minBytes = options.minBytes ?? MIN_BYTES
    this.#arrayBufferBytes = options.arrayBufferBytes ?? (() => process.memoryUsage().arrayBuffers)
    this.#collect =
      options.collect ??
      (() => {
        dropSpareReadBuffers()
        fullGc()
      })
  }

  /** Whether a collect is waiting for its IDLE_MS (only ever with no session running). */
  get scheduled(): boolean {
    return this.#timer !== undefined
  }

  /** Run one session: counted while it runs; the last to end schedules the collect. */
  async around<T>(session: () => Promise<T>): Promise<T> {
    this.begin()
    try {
      return await session()
    } finally {
      this.end()
    }
  }

  /** A session began (each begin is paired with one end): no collect while any runs. */
  begin(): void {
    this.#sessions++
    clearTimeout(this.#timer)
    this.#timer = undefined
  }

  /** A session ended: the last to end schedules the collect. */
  end(): void {
    if (--this.#sessions === 0) this.#schedule()
  }

  #schedule(): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      if (this.#sessions > 0) return
      if (this.#arrayBufferBytes() <= this.#minBytes) {
        this.skipped++
        return
      }
      this.#collect()
      this.collects++
    }, this.#idleMs)
    // An idle thread's pending collect must not keep it (or a test's process) alive.
    this.#timer.unref()
  }
}

/** The session thread's collector (session/worker.ts runs every session through it). */
export const idleCollector = new IdleCollector()
