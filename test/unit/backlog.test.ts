// What status says of a link: 'up' while changes flow or none wait, 'stalled' when changes wait
// and nothing moved for STALL_MS, 'down' when not connected; and the oldest waiting change's age.
import { describe, expect, it } from 'vitest'
import { Backlog, STALL_MS } from '../../src/server/sync/backlog.js'

describe('a link backlog', () => {
  it('is up with nothing waiting, however long nothing moved', () => {
    const backlog = new Backlog(0)
    expect(backlog.state(true, 0, 10 * STALL_MS)).toEqual({
      state: 'up',
      up: true,
      connected: true,
      oldestWaitingMs: null,
    })
  })

  it('stalls when changes wait and nothing moves, and is up again when they are applied', () => {
    const backlog = new Backlog(0)
    backlog.announced(5, 1_000)
    expect(backlog.state(true, 5, 1_000 + STALL_MS).state).toBe('up')
    const stalled = backlog.state(true, 5, 2_000 + STALL_MS)
    expect(stalled.state).toBe('stalled')
    expect(stalled.up).toBe(false)
    expect(stalled.connected).toBe(true)
    expect(stalled.oldestWaitingMs).toBe(1_000 + STALL_MS)
    backlog.applied(5, 9_000)
    expect(backlog.state(true, 0, 9_000 + 10 * STALL_MS).state).toBe('up')
  })

  it('is not stalled while content is received, and tells the oldest waiting change', () => {
    const backlog = new Backlog(0)
    backlog.announced(3, 1_000)
    backlog.announced(8, 4_000)
    backlog.progressed(1_000 + 2 * STALL_MS)
    expect(backlog.state(true, 8, 1_500 + 2 * STALL_MS).state).toBe('up')
    backlog.applied(3, 20_000)
    // The changes up to 3 are applied: the oldest still waiting was announced at 4 s.
    expect(backlog.state(true, 5, 21_000).oldestWaitingMs).toBe(17_000)
  })

  it('is down when not connected, and forgets what waited on a new connection', () => {
    const backlog = new Backlog(0)
    backlog.announced(4, 0)
    expect(backlog.state(false, 4, 100).state).toBe('down')
    backlog.reset(200)
    expect(backlog.state(true, 4, 200 + 10 * STALL_MS).oldestWaitingMs).toBeNull()
  })
})
