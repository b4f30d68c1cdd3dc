// The worker's spare send buffers (workers/port-link.ts): a download's whole frames handed back by
// the main thread are reused; buffers of any other size (a listing, a small file, a short last
// frame) are not kept, so they cannot crowd the frames out or pile up; the spares are let go once
// no frame has been taken for a while, and when the connection closes. Over a real MessageChannel.
import type { MessagePort } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import type { FromWorker, ToWorker } from '../../src/server/workers/messages.js'
import { SPARE_BYTES, SPARE_IDLE_MS, SPARE_MAX } from '../../src/server/workers/port-link.js'
import { unbatch, type Batch } from '../../src/server/workers/request-reply.js'
import { waitFor } from '../helpers/index.js'
import { linkedPortLink } from '../helpers/port-link.js'

/**
 * Play the main thread: take the worker's next message and hand its 'out' buffers back written.
 * Each test sends in one turn, so one message carries them all.
 */
async function writeAndHandBack(main: MessagePort): Promise<number> {
  const bufs = await new Promise<ArrayBuffer[]>((resolve) => {
    main.once('message', (message: FromWorker | Batch<FromWorker>) => {
      resolve(unbatch(message).flatMap((m) => (m.t === 'out' ? m.bufs : [])))
    })
  })
  const bytes = bufs.reduce((sum, b) => sum + b.byteLength, 0)
  const sent: ToWorker = { t: 'sent', bytes, bufs }
  main.postMessage(sent, bufs)
  return bufs.length
}

describe('PortLink spare buffers', () => {
  it('reuses a whole frame handed back, and keeps no buffer of another size', async () => {
    const { link, main } = linkedPortLink()
    const frame = link.takeBuffer(SPARE_BYTES)
    frame[0] = 0xab // a fresh ArrayBuffer is zero-filled: the mark shows reuse
    const small = link.takeBuffer(70 * 1024)
    const listing = link.takeBuffer(2 * SPARE_BYTES)
    link.send([frame, small, listing])
    expect(await writeAndHandBack(main)).toBe(3)
    await waitFor(() => link.spareCount === 1, { what: 'the frame kept as a spare' })
    expect(link.takeBuffer(SPARE_BYTES)[0]).toBe(0xab)
    expect(link.spareCount).toBe(0)
    expect(link.takeBuffer(SPARE_BYTES)[0]).toBe(0) // none left: a fresh one
  })

  it(`keeps at most ${SPARE_MAX}, lets them go when none has come back for a while`, async () => {
    const { link, main } = linkedPortLink()
    const frames = Array.from({ length: SPARE_MAX + 2 }, () => link.takeBuffer(SPARE_BYTES))
    const lastTaken = Date.now()
    link.send(frames)
    await writeAndHandBack(main)
    await waitFor(() => link.spareCount === SPARE_MAX, { what: 'the spares kept' })
    await waitFor(() => link.spareCount === 0, {
      what: 'the idle spares let go',
      timeoutMs: SPARE_IDLE_MS + 5_000,
    })
    expect(Date.now() - lastTaken).toBeGreaterThanOrEqual(SPARE_IDLE_MS - 50)
  })

  it('keeps them while a download goes on taking frames, even across the idle time', async () => {
    const { link, main } = linkedPortLink()
    const started = Date.now()
    let mark = 1
    const first = link.takeBuffer(SPARE_BYTES)
    first[0] = mark
    link.send([first])
    await writeAndHandBack(main)
    // A slow download: a frame every 400 ms, for longer than the idle time.
    while (Date.now() - started < SPARE_IDLE_MS + 1_000) {
      await waitFor(() => link.spareCount === 1, { what: 'the frame handed back' })
      await new Promise((resolve) => setTimeout(resolve, 400))
      const frame = link.takeBuffer(SPARE_BYTES)
      expect(frame[0]).toBe(mark) // the spare, not a fresh buffer
      frame[0] = ++mark
      link.send([frame])
      await writeAndHandBack(main)
    }
  })

  it('lets the spares go when the connection closes', async () => {
    const { link, main } = linkedPortLink()
    link.send([link.takeBuffer(SPARE_BYTES)])
    await writeAndHandBack(main)
    await waitFor(() => link.spareCount === 1, { what: 'the frame kept as a spare' })
    const closed: ToWorker = { t: 'closed' }
    main.postMessage(closed)
    await waitFor(() => link.closed, { what: 'the close' })
    expect(link.spareCount).toBe(0)
  })
})
