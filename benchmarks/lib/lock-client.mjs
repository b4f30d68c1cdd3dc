/**
 * The user-lock benchmark's client (and the HTTP benchmark's `ls` loop): a child process that keeps one connection to a server open,
 * through the real client library from dist/ (connection.js and user-locks.js), and answers the
 * benchmark's calls over IPC. A timed call is timed here, around the request's round trip only, so
 * that the IPC hop to the benchmark process is never part of a number.
 *
 * Calls (parent → child: { t: 'call', id, op, args }; child → parent: { t: 'ok', id, value } or
 * { t: 'failed', id, error, code }):
 *   connect  { host, port, clientId }
 *   time     { request: 'ping' | 'stat' | 'list' | 'lock' | 'unlock' | 'write', name?, index?,
 *            expect?, bytes? } → { ms, result }   (lock/unlock: by index with `expect`, or by name;
 *            write: `bytes` as an array of numbers, the IPC channel being JSON)
 *   indexOf  { name } → index of `name` in this server's listing (sorted, as `ls` shows it)
 *   waitQueued { name, server, atLeast, timeoutMs } → { ms, queued, polls }: stat `name` until its
 *            lock at `server` shows `atLeast` queued updates (polled back to back, 1 ms apart)
 *   close
 */
import { performance } from 'node:perf_hooks'
import { importDist } from './dist.mjs'

const { connect } = await importDist('client/connection.js')
const { lockFile, unlockFile } = await importDist('client/user-locks.js')

/** @type {any} */
let conn = null

const sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** @param {Record<string, any>} a */
function target(a) {
  return a.name !== undefined ? { name: a.name } : { index: a.index, expect: a.expect }
}

/** @param {Record<string, any>} a */
function send(a) {
  switch (a.request) {
    case 'ping':
      return conn.ping()
    case 'stat':
      return conn.stat(a.name)
    case 'list':
      return conn.list()
    case 'lock':
      return lockFile(conn, target(a))
    case 'unlock':
      return unlockFile(conn, target(a))
    case 'write':
      return conn.write(a.name, Buffer.from(a.bytes))
    default:
      throw new Error(`lock client: unknown request ${a.request}`)
  }
}

/** @param {Record<string, any>} a */
async function timed(a) {
  const t0 = performance.now()
  const result = await send(a)
  return { ms: performance.now() - t0, result }
}

/** @param {{ name: string, server: string, atLeast: number, timeoutMs: number }} a */
async function waitQueued(a) {
  const t0 = performance.now()
  let polls = 0
  let queued = -1
  for (;;) {
    polls++
    const row = await conn.stat(a.name)
    const lock = row.locks.find((/** @type {any} */ l) => l.server === a.server)
    queued = lock ? lock.queued : -1
    const ms = performance.now() - t0
    if (queued >= a.atLeast) return { ms, queued, polls }
    if (ms > a.timeoutMs)
      throw new Error(
        `'${a.name}' at ${a.server}: ${queued < 0 ? 'not locked' : `${queued} queued`} after ${Math.round(ms)} ms, waiting for ${a.atLeast}`,
      )
    await sleep(1)
  }
}

/** @type {{ stop: boolean, ms: number[], errors: string[], done: Promise<void> } | null} */
let loop = null

/** @param {Record<string, any>} a */
function startLoop(a) {
  if (loop) throw new Error('lock client: a loop is already running')
  const state = {
    stop: false,
    ms: /** @type {number[]} */ ([]),
    errors: /** @type {string[]} */ ([]),
  }
  const run = async () => {
    while (!state.stop) {
      try {
        state.ms.push((await timed(a)).ms)
      } catch (err) {
        state.errors.push(err instanceof Error ? err.message : String(err))
        if (conn?.isClosed) return
      }
      if (a.pauseMs > 0) await sleep(a.pauseMs)
    }
  }
  loop = Object.assign(state, { done: run() })
}

async function stopLoop() {
  if (!loop) throw new Error('lock client: no loop is running')
  const running = loop
  loop = null
  running.stop = true
  await running.done
  return { ms: running.ms, errors: running.errors }
}

/** @param {string} op @param {Record<string, any>} a */
async function call(op, a) {
  switch (op) {
    case 'connect':
      conn = await connect({ host: a.host, port: a.port, clientId: a.clientId })
      return null
    case 'time':
      return timed(a)
    case 'indexOf': {
      const { files } = await conn.list()
      const index = files.findIndex((/** @type {any} */ f) => f.name === a.name)
      if (index < 0) throw new Error(`'${a.name}' is not in the listing`)
      return index
    }
    case 'waitQueued':
      return waitQueued(/** @type {any} */ (a))
    case 'loop':
      startLoop(a)
      return null
    case 'stopLoop':
      return stopLoop()
    case 'close':
      await conn?.close()
      conn = null
      return null
    default:
      throw new Error(`lock client: unknown call ${op}`)
  }
}

process.on('message', (/** @type {{ t: string, id: number, op: string, args: any }} */ m) => {
  if (m.t === 'exit') process.exit(0)
  if (m.t !== 'call') return
  call(m.op, m.args ?? {}).then(
    (value) => process.send?.({ t: 'ok', id: m.id, value }),
    (/** @type {any} */ err) =>
      process.send?.({
        t: 'failed',
        id: m.id,
        code: err?.code ?? null,
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      }),
  )
})
// The parent died or let go: never linger.
process.on('disconnect', () => process.exit(0))
