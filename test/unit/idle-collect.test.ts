import { once } from 'node:events'
import { BroadcastChannel, MessageChannel, type MessagePort } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import { SessionPool } from '../../src/server/session-pool.js'
import { MIN_BYTES } from '../../src/server/workers/idle-collect.js'

const TASK = new URL('../helpers/idle-collect-task.mjs', import.meta.url).href

interface State {
  collects: number
  skipped: number
  scheduled: boolean
  slow: { collects: number; skipped: number; scheduled: boolean }
  arrayBuffers: number
}

let pool: SessionPool | undefined
let channel: BroadcastChannel | undefined
afterEach(async () => {
  channel?.close()
  channel = undefined
  await pool?.destroy()
  pool = undefined
})

/** Start a session holding `mib` MiB of ArrayBuffers; resolves once it holds them. */
async function start(
  p: SessionPool,
  mib: number,
  useSlow = false,
): Promise<{ port: MessagePort; done: Promise<unknown> }> {
  const { port1, port2 } = new MessageChannel()
  const done = p.run({ port: port2, mib, useSlow }, { transferList: [port2] })
  await once(port1, 'message')
  return { port: port1, done }
}

async function end(session: { port: MessagePort; done: Promise<unknown> }): Promise<void> {
  session.port.postMessage('end')
  await session.done
  session.port.close()
}

/** The session thread's collector, asked over the BroadcastChannel. */
async function state(): Promise<State> {
  channel ??= new BroadcastChannel('idle-collect-test')
  const c = channel
  const answer = new Promise<State>((resolve) => {
    c.onmessage = (m: unknown) => resolve((m as { data: State }).data)
  })
  c.postMessage('state')
  return answer
}

async function until(check: (s: State) => boolean, what: string): Promise<State> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const s = await state()
    if (check(s)) return s
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s)}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('idle collect (session threads)', () => {
  it('collects once the last session has ended, not while one runs, and frees its ArrayBuffers', async () => {
    pool = new SessionPool(1, 2, TASK)
    const a = await start(pool, 8)
    const b = await start(pool, 8)
    await end(a)
    // One session still runs: nothing is waiting to collect.
    let s = await state()
    expect(s).toMatchObject({ collects: 0, scheduled: false })
    await end(b)
    s = await until((x) => x.collects === 1, 'the collect after the last session')
    expect(s.scheduled).toBe(false)
    // V8 frees the buffers' memory on a thread of its own after the collect: polled (an idle
    // thread that was not collected keeps them; a full run at load saw 16 MiB just after it).
    s = await until((x) => x.arrayBuffers < MIN_BYTES, "the ArrayBuffers' memory freed")
    expect(s.collects).toBe(1)
  })

  it('a session that starts before the collect cancels it; a thread holding little skips it', async () => {
    pool = new SessionPool(1, 2, TASK)
    // Through the collector that waits 5 s, so that the next session surely starts first.
    const a = await start(pool, 8, true)
    await end(a)
    expect((await state()).slow.scheduled).toBe(true)
    const b = await start(pool, 0, true)
    let s = await state()
    expect(s.slow).toEqual({ collects: 0, skipped: 0, scheduled: false })
    await end(b)
    // Its one idle check, 5 s after b (by then V8 may have freed a's buffers itself: it skips).
    s = await until((x) => x.slow.collects + x.slow.skipped === 1, 'the check after b')
    expect(s.slow.scheduled).toBe(false)
    // Nothing held now: the next idle check finds too little and does not collect.
    const c = await start(pool, 0)
    await end(c)
    s = await until((x) => x.skipped === 1, 'the idle check after a session that held nothing')
    expect(s.collects).toBe(0)
  })
})
