// Per-turn batching of main ⇄ worker messages (request-reply.ts's Outbox with endOfTurn, as the
// PortLink and the session bridge use it): what one side says across several microtasks of one
// turn of the event loop leaves as one postMessage; what it says in the next turn, in the next.
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { linkedPortLink } from '../helpers/port-link.js'
import { endOfTurn, Outbox, type Batch } from '../../src/server/workers/request-reply.js'
import type { FromWorker } from '../../src/server/workers/messages.js'

/** The end of this turn (an immediate queued after the outbox's own flush runs after it). */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** Everything queued on `port` now, one entry per postMessage. */
function drain(port: MessagePort): unknown[] {
  const out: unknown[] = []
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) out.push(m.message)
  return out
}

describe('Outbox with endOfTurn', () => {
  it('sends what several microtasks of one turn said as one batch, and the next turn apart', async () => {
    const sent: unknown[] = []
    const outbox = new Outbox<{ t: string; n: number }>((m) => sent.push(m), endOfTurn)
    outbox.post({ t: 'x', n: 1 })
    await Promise.resolve()
    outbox.post({ t: 'x', n: 2 })
    await Promise.resolve()
    await Promise.resolve()
    outbox.post({ t: 'x', n: 3 })
    await Promise.resolve()
    expect(sent).toEqual([]) // still this turn
    await nextTurn()
    expect(sent).toEqual([
      {
        t: 'batch',
        messages: [
          { t: 'x', n: 1 },
          { t: 'x', n: 2 },
          { t: 'x', n: 3 },
        ],
      },
    ])
    outbox.post({ t: 'x', n: 4 }) // the next turn
    await nextTurn()
    expect(sent).toEqual([sent[0], { t: 'x', n: 4 }])
  })

  it('the default flushes at the end of each microtask', async () => {
    const sent: unknown[] = []
    const outbox = new Outbox<{ t: string; n: number }>((m) => sent.push(m))
    outbox.post({ t: 'x', n: 1 })
    await Promise.resolve()
    outbox.post({ t: 'x', n: 2 })
    await nextTurn()
    expect(sent).toEqual([
      { t: 'x', n: 1 },
      { t: 'x', n: 2 },
    ])
  })

  it('an explicit flush sends at once; what comes after still leaves at the end of the turn', async () => {
    const sent: unknown[] = []
    const outbox = new Outbox<{ t: string; n: number }>((m) => sent.push(m), endOfTurn)
    outbox.post({ t: 'x', n: 1 })
    outbox.flush()
    expect(sent).toEqual([{ t: 'x', n: 1 }])
    await Promise.resolve()
    outbox.post({ t: 'x', n: 2 })
    outbox.post({ t: 'x', n: 3 })
    await nextTurn()
    expect(sent).toEqual([
      { t: 'x', n: 1 },
      {
        t: 'batch',
        messages: [
          { t: 'x', n: 2 },
          { t: 'x', n: 3 },
        ],
      },
    ])
  })
})

describe('PortLink over a real MessageChannel', () => {
  it("a turn's requests, log lines and acks reach the main thread's port as one message", async () => {
    const { link, main } = linkedPortLink()
    // A pipelined burst: each request's work is its own microtask chain.
    const replies = [1, 2, 3].map((i) =>
      Promise.resolve()
        .then(() => link.call<number>((req) => ({ t: 'query', req, what: 'status' })))
        .then(() => i),
    )
    await Promise.resolve()
    link.post({ t: 'follow' })
    await Promise.resolve()
    await Promise.resolve()
    link.send([Buffer.from('abc')])
    expect(drain(main)).toEqual([]) // nothing before the turn ends
    await nextTurn()
    const first = drain(main) as (FromWorker | Batch<FromWorker>)[]
    expect(first).toHaveLength(1)
    const batch = first[0] as Batch<FromWorker>
    expect(batch.t).toBe('batch')
    expect(batch.messages.map((m) => m.t)).toEqual(['query', 'query', 'query', 'follow', 'out'])
    // The main thread's answers, batched too, settle every call.
    const reqs = batch.messages.flatMap((m) => (m.t === 'query' ? [m.req] : []))
    main.postMessage({
      t: 'batch',
      messages: reqs.map((req) => ({ t: 'reply', req, value: null })),
    })
    expect(await Promise.all(replies)).toEqual([1, 2, 3])
    // The next turn's message goes alone.
    link.post({ t: 'follow' })
    await nextTurn()
    expect(drain(main)).toEqual([{ t: 'follow' }])
  })
})
