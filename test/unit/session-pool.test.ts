import { once } from 'node:events'
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import { SessionPool } from '../../src/server/session-pool.js'

const TASK = new URL('../helpers/pool-task.mjs', import.meta.url).href

/** A running task: which thread took it, and how to end it (or its thread). */
interface Running {
  thread: number
  port: MessagePort
  done: Promise<unknown>
}

async function start(pool: SessionPool): Promise<Running> {
  const { port1, port2 } = new MessageChannel()
  const done = pool.run({ port: port2 }, { transferList: [port2] })
  done.catch(() => undefined)
  const [thread] = (await once(port1, 'message')) as [number]
  return { thread, port: port1, done }
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

let pool: SessionPool | undefined
afterEach(async () => {
  await pool?.destroy()
  pool = undefined
})

describe('SessionPool', () => {
  it('starts no thread; the first session starts one, a second at once the next; nine sessions are all served', async () => {
    pool = new SessionPool(2, 9, TASK)
    const p = pool
    expect(p.threads.length).toBe(0) // a server no client has used holds no session thread
    const first = await start(p)
    expect(p.threads.length).toBe(1) // one client at a time needs one thread
    const second = await start(p) // served at once, beside the first, while the next one starts
    expect(second.thread).toBe(first.thread)
    // Started, and ready once its warm-up task is done.
    await until(() => p.threads.length === 2 && p.completed >= 1, 'the second thread')
    const third = await start(p)
    expect(third.thread).not.toBe(first.thread) // the idle new thread, not the busy one
    const rest: Running[] = []
    for (let i = 0; i < 6; i++) rest.push(await start(p))
    const all = [first, second, third, ...rest]
    const perThread = new Map<number, number>()
    for (const r of all) perThread.set(r.thread, (perThread.get(r.thread) ?? 0) + 1)
    expect([...perThread.values()].sort()).toEqual([4, 5]) // ceil(9 / 2) at most on one
    expect(p.threads.length).toBe(2)
    for (const r of all) r.port.postMessage('end')
    await Promise.all(all.map((r) => r.done))
  })

  it('a crashed thread fails its sessions only; later sessions are served, and a second thread starts again', async () => {
    pool = new SessionPool(2, 9, TASK)
    const p = pool
    const first = await start(p)
    const second = await start(p)
    await until(() => p.threads.length === 2 && p.completed >= 1, 'the second thread')
    const third = await start(p)
    expect(third.thread).not.toBe(first.thread)
    third.port.postMessage('exit')
    await expect(third.done).rejects.toThrow(/exited/)
    for (const r of [first, second]) r.port.postMessage('end')
    await expect(first.done).resolves.toBe(first.thread)
    await expect(second.done).resolves.toBe(first.thread)
    const again = await start(p)
    const again2 = await start(p)
    // (completed: warm-up, the crashed one, the first two, the second warm-up)
    await until(() => p.threads.length === 2 && p.completed >= 5, 'a second thread again')
    const other = await start(p)
    expect(other.thread).not.toBe(again.thread)
    for (const r of [again, again2, other]) r.port.postMessage('end')
    await Promise.all([again.done, again2.done, other.done])
  })
})
