/**
 * The benchmark's side of lock-client.mjs: one client process with one connection to a server,
 * driven call by call. Every call has a deadline, and the process is registered in children.mjs,
 * so it never outlives the run.
 */
import { fileURLToPath } from 'node:url'
import { forkTracked, stopChild } from './children.mjs'

const SCRIPT = fileURLToPath(new URL('./lock-client.mjs', import.meta.url))
const CALL_TIMEOUT_MS = 60_000 // an unlock applying 100 updates on a slow, shared disk

/** A call that failed at the client: the server's error code (ERR_…) when it gave one. */
export class LockClientError extends Error {
  /** @param {string} message @param {string | null} code */
  constructor(message, code) {
    super(message)
    this.code = code
  }
}

export class LockClient {
  /** @param {import('./cluster.mjs').ClusterServer} server @param {string} clientId */
  static async start(server, clientId) {
    const client = new LockClient()
    await client.call('connect', { host: server.host, port: server.port, clientId })
    return client
  }

  constructor() {
    this.child = forkTracked(SCRIPT)
    this.nextId = 0
  }

  /**
   * One call (see lock-client.mjs); rejects with a LockClientError if it failed there.
   * @param {string} op @param {Record<string, any>} [args] @returns {Promise<any>}
   */
  call(op, args = {}, timeoutMs = CALL_TIMEOUT_MS) {
    const id = ++this.nextId
    const child = this.child
    return new Promise((resolve, reject) => {
      const onMessage = (/** @type {any} */ m) => {
        if (m.id !== id) return
        if (m.t === 'ok') done(() => resolve(m.value))
        else done(() => reject(new LockClientError(`lock client ${op}: ${m.error}`, m.code)))
      }
      const onExit = (/** @type {number | null} */ code) =>
        done(() => reject(new Error(`lock client exited (${code}) during ${op}`)))
      const timer = setTimeout(
        () => done(() => reject(new Error(`lock client: no answer to ${op} in ${timeoutMs} ms`))),
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
      child.send({ t: 'call', id, op, args })
    })
  }

  /**
   * A request's round trip, timed in the client process.
   * @param {string} request @param {Record<string, any>} [args]
   * @returns {Promise<{ ms: number, result: any }>}
   */
  time(request, args = {}) {
    return this.call('time', { ...args, request })
  }

  /** Close the connection, then the process. */
  async close() {
    const child = this.child
    if (child.exitCode !== null || child.signalCode !== null) return
    await this.call('close', {}, 5_000).catch(() => undefined)
    const exited = new Promise((resolve) => child.once('exit', resolve))
    if (child.connected) child.send({ t: 'exit' })
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2_000).unref())])
    await stopChild(child, 'SIGKILL', 0)
  }
}
