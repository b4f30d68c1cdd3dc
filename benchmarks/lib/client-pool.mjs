/**
 * The parent's side of the client processes: N long-lived clients of one kind, reused from
 * sample to sample, all started on the same `go` so that "nine clients at once" really overlap.
 */
import { fileURLToPath } from 'node:url'
import { forkTracked, stopChild } from './children.mjs'

const STEP_TIMEOUT_MS = 10 * 60_000 // one transfer on a slow, shared disk

/** @typedef {import('./client-child.mjs').FromClient} FromClient */
/** @typedef {{ start: number, end: number, cpuSec: number, bytes: number, files?: number }} ClientResult */

/** Resolve with the next IPC message of `child` (or reject if it dies first). */
function nextMessage(
  /** @type {import('node:child_process').ChildProcess} */ child,
  timeoutMs = STEP_TIMEOUT_MS,
) {
  return /** @type {Promise<FromClient>} */ (
    new Promise((resolve, reject) => {
      const onMessage = (/** @type {FromClient} */ message) => done(() => resolve(message))
      const onExit = (/** @type {number | null} */ code) =>
        done(() => reject(new Error(`client process exited (${code})`)))
      const timer = setTimeout(
        () => done(() => reject(new Error(`client silent for ${timeoutMs} ms`))),
        timeoutMs,
      )
      const done = (/** @type {() => void} */ settle) => {
        clearTimeout(timer)
        child.off('message', onMessage)
        child.off('exit', onExit)
        settle()
      }
      child.on('message', onMessage)
      child.once('exit', onExit)
    })
  )
}

/** @param {FromClient} message @param {string} expected */
function expect(message, expected) {
  if (message.t === 'failed') throw new Error(`client failed: ${message.error}`)
  if (message.t !== expected) throw new Error(`client sent ${message.t}, expected ${expected}`)
  return message
}

export class ClientPool {
  /** @param {'tandem' | 'baseline'} kind @param {number} count @param {string[]} [nodeArgs] e.g. --cpu-prof */
  constructor(kind, count, nodeArgs = []) {
    const script = fileURLToPath(new URL(`./${kind}-client.mjs`, import.meta.url))
    this.children = Array.from({ length: count }, () => forkTracked(script, [], nodeArgs))
  }

  get pids() {
    return this.children.map((child) => /** @type {number} */ (child.pid))
  }

  /**
   * Give client i the job jobs[i], start them all at once, and return their results.
   * @param {Record<string, any>[]} jobs
   * @returns {Promise<ClientResult[]>}
   */
  async run(jobs) {
    const clients = this.children.slice(0, jobs.length)
    if (clients.length < jobs.length)
      throw new Error(`${jobs.length} jobs for ${clients.length} clients`)
    const ready = clients.map((child) => nextMessage(child))
    clients.forEach((child, i) => child.send({ t: 'prepare', job: jobs[i] }))
    for (const message of await Promise.all(ready)) expect(message, 'ready')
    const done = clients.map((child) => nextMessage(child))
    for (const child of clients) child.send({ t: 'go' })
    const results = await Promise.all(done)
    return results.map((message) => {
      const { start, end, cpuSec, bytes, files } = /** @type {ClientResult} */ (
        expect(message, 'done')
      )
      return { start, end, cpuSec, bytes, ...(files === undefined ? {} : { files }) }
    })
  }

  /** Ask each client to exit (so that a --cpu-prof client writes its profile), then make sure. */
  async close() {
    await Promise.all(
      this.children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return
        const exited = new Promise((resolve) => child.once('exit', resolve))
        if (child.connected) child.send({ t: 'exit' })
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2_000).unref())])
        await stopChild(child, 'SIGKILL', 0)
      }),
    )
  }
}
