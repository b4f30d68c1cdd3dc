// The main thread's half of a session (net/session-bridge.ts) at its end: the worker's last
// messages are taken, its locks released and the idle collector told, once — even when one of
// those last messages fails (its handler throws; the change log itself keeps a row it cannot
// write for later, so the failure is made here by the stand-in core). And while it runs: a
// message whose handler throws closes that session (the rest of its turn still handled), and
// the main thread goes on. A real bridge on a real
// loopback socket, a real lock table; the rest of the server core is a stand-in.
import net from 'node:net'
import type { MessagePort } from 'node:worker_threads'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { LockManager } from '../../src/server/locks/lock-manager.js'
import { SessionBridge } from '../../src/server/net/session-bridge.js'
import type { ServerCore } from '../../src/server/core.js'
import type { Greeted } from '../../src/server/net/hello-gate.js'

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup()
  vi.restoreAllMocks()
})

/** A connected pair on 127.0.0.1: the server's side (the bridge's) and the client's. */
async function socketPair(): Promise<{ served: net.Socket; client: net.Socket }> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(() => server.close())
  const { port } = server.address() as net.AddressInfo
  const served = new Promise<net.Socket>((resolve) => server.once('connection', resolve))
  const client = net.connect(port, '127.0.0.1')
  client.on('error', () => undefined) // a reset when the bridge destroys its side is expected
  cleanups.push(() => client.destroy())
  return { served: await served, client }
}

/** The first message of kind `t` the bridge sends the worker (its turn's batch unpacked). */
function nextFromBridge(port: MessagePort, t: string): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const onMessage = (message: { t: string; messages?: { t: string }[] }): void => {
      const all = message.t === 'batch' ? (message.messages ?? []) : [message]
      const found = all.find((m) => m.t === t)
      if (!found) return
      port.off('message', onMessage)
      resolve(found as Record<string, unknown>)
    }
    port.on('message', onMessage)
  })
}

/** A bridge on a real socket, with a real lock table and a stand-in core whose change log throws. */
async function failingBridge(): Promise<{
  bridge: SessionBridge
  worker: MessagePort
  served: net.Socket
  client: net.Socket
  locks: LockManager
  notices: unknown[]
  finished: () => number
}> {
  const locks = new LockManager()
  let finished = 0
  const notices: unknown[] = []
  const core = {
    sessions: new Set(),
    locks,
    config: { lockTimeoutMs: 5_000 },
    userLockRefusal: () => undefined,
    record: () => {
      throw new Error('a handler failed')
    },
    requests: undefined,
    console: { sessionClosed: () => undefined },
    sessionClosed: () => undefined,
    sessionFinished: () => finished++,
    sync: { wrote: (states: unknown) => notices.push(states) },
    changeLog: {
      query: () => {
        throw new Error('the log cannot be read')
      },
    },
  } as unknown as ServerCore
  const { served, client } = await socketPair()
  const greeted = {
    socket: served,
    address: '127.0.0.1:1',
    hello: { id: 'alice' },
    rest: Buffer.alloc(0),
  } as unknown as Greeted
  const bridge = new SessionBridge(greeted, 's1', core)
  const worker = bridge.workerPort
  cleanups.push(() => worker.close())
  return { bridge, worker, served, client, locks, notices, finished: () => finished }
}

/** The worker takes a write lock on a.txt through the bridge. */
async function lockA(worker: MessagePort): Promise<void> {
  const granted = nextFromBridge(worker, 'reply')
  worker.postMessage({ t: 'lock', req: 1, names: ['a.txt'], mode: 'write', client: 'alice' })
  expect(await granted).toMatchObject({ t: 'reply', req: 1 })
}

const STATES = [{ name: 'a.txt', identity: null }]
/** One turn of the worker: a change-log row (whose handler throws here), then a write's notice. */
const FAILING_TURN = {
  t: 'batch',
  messages: [
    { t: 'log', entry: { op: 'upload', name: 'a.txt' }, record: true },
    { t: 'wrote', states: STATES },
  ],
}

describe('a session bridge at its end', () => {
  it('releases the locks and tells the collector once, though a last message fails', async () => {
    const { bridge, worker, served, client, locks, notices, finished } = await failingBridge()
    const failures = vi.spyOn(console, 'error').mockImplementation(() => undefined)

    await lockA(worker)

    // The bridge's own 'close' listener came first: the socket is closed, the task not yet ended.
    const closed = new Promise((resolve) => served.once('close', resolve))
    client.end()
    await closed
    expect(finished()).toBe(0)
    // The worker's last turn, still on the port when its task is reported ended: one batch, whose
    // first message fails; the write's notice after it must still get through.
    worker.postMessage(FAILING_TURN)
    expect(() => bridge.taskSettled()).not.toThrow()
    bridge.taskSettled() // told twice: finished once all the same

    expect(finished()).toBe(1)
    expect(notices).toEqual([STATES])
    expect(failures).toHaveBeenCalledWith('[session s1] a last message failed:', expect.any(Error))
    // The write lock went with the session: another writer gets it at once.
    const release = await locks.acquire(['a.txt'], 'write', 1_000)
    release()
  })

  it('a message that fails while the session runs closes that session, not the server', async () => {
    const { bridge, worker, served, client, locks, notices, finished } = await failingBridge()
    const failures = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    await lockA(worker)
    // Without the guard, the throw is an uncaught exception of this (the main) thread.
    const closed = Promise.all([
      new Promise((resolve) => client.once('close', resolve)), // the client sees it closed
      new Promise((resolve) => served.once('close', resolve)),
    ])
    worker.postMessage(FAILING_TURN)
    await closed
    expect(notices).toEqual([STATES]) // the rest of the turn was still handled
    expect(failures).toHaveBeenCalledWith(
      "[session s1] a 'log' message failed; closing:",
      expect.any(Error),
    )
    // The worker's task ends as its socket closed; the session's lock goes with it.
    bridge.taskSettled()
    expect(finished()).toBe(1)
    const release = await locks.acquire(['a.txt'], 'write', 1_000)
    release()
  })

  it('a request that fails is answered with its error, and the session goes on', async () => {
    const { worker, served } = await failingBridge()
    const answered = nextFromBridge(worker, 'reply-failed')
    worker.postMessage({ t: 'query', req: 7, what: 'log' })
    expect(await answered).toMatchObject({ t: 'reply-failed', req: 7 })
    // Not a reason to close: the worker was told, and waits on nothing.
    await lockA(worker)
    expect(served.destroyed).toBe(false)
  })
})
