// The failover state machine (server-pool.ts) with stand-in connections: which errors move, in
// what order the servers are tried, that work failing together moves once, and that a replay
// carries the same request id.
import { describe, expect, it } from 'vitest'
import { TandemError } from '../../src/protocol/index.js'
import type { ServerAddress } from '../../src/client/address.js'
import {
  failoverOrder,
  isServerLost,
  ServerPool,
  type PoolConnection,
  type ServerSwitch,
} from '../../src/client/server-pool.js'

class StandIn implements PoolConnection {
  isClosed = false
  closedByClient = false
  constructor(
    readonly address: string,
    readonly load?: { clients: number; maxClients: number },
  ) {}
  destroy(): void {
    this.closedByClient = true
    this.isClosed = true
  }
  close(): Promise<void> {
    this.isClosed = true
    return Promise.resolve()
  }
  /** The server went away under the work. */
  lose(): TandemError {
    this.isClosed = true
    return new TandemError('ERR_CONNECTION_CLOSED', `connection to ${this.address} closed`)
  }
}

const A = { host: '127.0.0.1', port: 1 }
const B = { host: '127.0.0.1', port: 2 }
const C = { host: '127.0.0.1', port: 3 }
const name = (s: ServerAddress) => `${s.host}:${s.port}`

/** A pool over stand-ins: `down` lists addresses that refuse; every connection is recorded. */
function pool(
  servers: ServerAddress[],
  options: {
    down?: Set<string>
    /** Addresses that accept and never welcome (the connect hangs). */
    hang?: Set<string>
    loads?: Record<string, number>
    leastLoaded?: boolean
  } = {},
) {
  const opened: StandIn[] = []
  const switches: ServerSwitch[] = []
  const p = new ServerPool<StandIn>(servers, {
    clientId: 'unit',
    leastLoaded: options.leastLoaded,
    onSwitch: (move) => switches.push(move),
    open: (address) => {
      const at = name(address)
      if (options.hang?.has(at)) return new Promise<StandIn>(() => {})
      if (options.down?.has(at)) {
        const cause = Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })
        return Promise.reject(
          new TandemError(
            'ERR_UNREACHABLE',
            `cannot reach the server at ${at}: connection refused`,
            { cause },
          ),
        )
      }
      const clients = options.loads?.[at]
      const conn = new StandIn(at, clients === undefined ? undefined : { clients, maxClients: 9 })
      opened.push(conn)
      return Promise.resolve(conn)
    },
  })
  return { pool: p, opened, switches }
}

describe('what counts as a lost server', () => {
  it('a closed connection with ERR_CONNECTION_CLOSED, ERR_TIMEOUT or ERR_UNREACHABLE; ERR_SHUTTING_DOWN always', () => {
    const conn = new StandIn('x')
    expect(isServerLost(new TandemError('ERR_SHUTTING_DOWN', 'stopping'), conn)).toBe(true)
    expect(isServerLost(new TandemError('ERR_CONNECTION_CLOSED', 'closed'), conn)).toBe(false)
    conn.isClosed = true
    for (const code of ['ERR_CONNECTION_CLOSED', 'ERR_TIMEOUT', 'ERR_UNREACHABLE'] as const)
      expect(isServerLost(new TandemError(code, 'x'), conn)).toBe(true)
  })

  it('answers are not: ERR_NOT_FOUND, ERR_LOCKED, ERR_TIMEOUT on an open connection, local errors', () => {
    const conn = new StandIn('x')
    for (const code of ['ERR_NOT_FOUND', 'ERR_LOCKED', 'ERR_TIMEOUT', 'ERR_INTEGRITY'] as const)
      expect(isServerLost(new TandemError(code, 'x'), conn)).toBe(false)
    conn.isClosed = true
    expect(isServerLost(new TandemError('ERR_NO_SPACE', 'local disk'), conn)).toBe(false)
    expect(isServerLost(new Error('not a TandemError'), conn)).toBe(false)
  })

  it('a connection this side closed (Ctrl+C, a reader gone) is not', () => {
    const conn = new StandIn('x')
    conn.destroy()
    expect(
      isServerLost(new TandemError('ERR_CONNECTION_CLOSED', 'closed by the client'), conn),
    ).toBe(false)
  })
})

describe('the order after a loss', () => {
  it('the servers after the lost one, then those before it, the lost one last', () => {
    expect(failoverOrder([A, B, C], name(A))).toEqual([B, C, A])
    expect(failoverOrder([A, B, C], name(B))).toEqual([C, A, B])
    expect(failoverOrder([A, B, C], name(C))).toEqual([A, B, C])
  })
})

describe('ServerPool.run', () => {
  it('replays the work on the next server with the same rid, and says so once', async () => {
    const { pool: p, opened, switches } = pool([A, B])
    const rids: string[] = []
    const result = await p.run(async (conn, rid) => {
      rids.push(rid)
      if (conn.address === name(A)) throw conn.lose()
      return conn.address
    })
    expect(result).toBe(name(B))
    expect(rids).toHaveLength(2)
    expect(rids[1]).toBe(rids[0])
    expect(switches).toEqual([
      { from: name(A), to: name(B), reason: `connection to ${name(A)} closed` },
    ])
    expect(opened.map((c) => c.address)).toEqual([name(A), name(B)])
  })

  it('two runs get two rids', async () => {
    const { pool: p } = pool([A, B])
    const first = await p.run(async (_c, rid) => rid)
    const second = await p.run(async (_c, rid) => rid)
    expect(first).not.toBe(second)
  })

  it('work failing together on the lost connection moves once, and each piece is replayed', async () => {
    const { pool: p, opened, switches } = pool([A, B, C])
    const conn = await p.connection()
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => (release = resolve))
    const pieces = [1, 2, 3].map((n) =>
      p.run(async (c) => {
        if (c === conn) {
          await gate
          throw c.lose()
        }
        return `${n}@${c.address}`
      }),
    )
    release()
    expect(await Promise.all(pieces)).toEqual([`1@${name(B)}`, `2@${name(B)}`, `3@${name(B)}`])
    expect(switches).toHaveLength(1)
    expect(opened).toHaveLength(2)
  })

  it('an answer that is an error does not move', async () => {
    const { pool: p, opened } = pool([A, B])
    const error = new TandemError('ERR_LOCKED', 'locked')
    await expect(p.run(() => Promise.reject(error))).rejects.toBe(error)
    expect(opened).toHaveLength(1)
  })

  it('no replay once the work says it cannot be (output already printed)', async () => {
    const { pool: p, opened } = pool([A, B])
    const run = p.run(async (c) => Promise.reject(c.lose()), { canReplay: () => false })
    await expect(run).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED' })
    expect(opened).toHaveLength(1)
  })

  it('one server: no failover', async () => {
    const { pool: p, opened } = pool([A])
    await expect(p.run(async (c) => Promise.reject(c.lose()))).rejects.toMatchObject({
      code: 'ERR_CONNECTION_CLOSED',
    })
    expect(opened).toHaveLength(1)
  })

  it('the others down: ERR_UNREACHABLE naming the lost server and each one tried, the lost one last', async () => {
    const down = new Set<string>()
    const { pool: p } = pool([A, B, C], { down })
    const run = p.run(async (c) => {
      down.add(name(A))
      down.add(name(B))
      down.add(name(C))
      return Promise.reject(c.lose())
    })
    await expect(run).rejects.toMatchObject({
      code: 'ERR_UNREACHABLE',
      message: `lost the server at ${name(A)} (connection to ${name(A)} closed), and then cannot reach any of the 3 servers: ${name(B)} (connection refused), ${name(C)} (connection refused), ${name(A)} (connection refused)`,
    })
    // Later work fails the same way at once.
    await expect(p.run(async () => 'never')).rejects.toMatchObject({ code: 'ERR_UNREACHABLE' })
  })

  it('a server that keeps dying under the work: bounded (twice per server), then the failure', async () => {
    const { pool: p, opened } = pool([A, B])
    await expect(p.run(async (c) => Promise.reject(c.lose()))).rejects.toMatchObject({
      code: 'ERR_CONNECTION_CLOSED',
    })
    expect(opened).toHaveLength(5)
  })

  it('an aborted signal (Ctrl+C) never moves', async () => {
    const abort = new AbortController()
    const p = new ServerPool<StandIn>([A, B], {
      clientId: 'unit',
      signal: abort.signal,
      open: (address) => Promise.resolve(new StandIn(name(address))),
    })
    const run = p.run(async (c) => {
      abort.abort()
      return Promise.reject(c.lose())
    })
    await expect(run).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED' })
  })
})

describe('least-loaded choice (servers from discovery)', () => {
  it('keeps the server serving the fewest clients, closes the others, fails over in load order', async () => {
    const loads = { [name(A)]: 5, [name(B)]: 1, [name(C)]: 3 }
    const { pool: p, opened, switches } = pool([A, B, C], { loads, leastLoaded: true })
    const conn = await p.connection()
    expect(conn.address).toBe(name(B))
    expect(opened.filter((c) => c !== conn).every((c) => c.isClosed)).toBe(true)
    await p.run(async (c) => (c === conn ? Promise.reject(c.lose()) : 'ok'))
    expect(switches[0]?.to).toBe(name(C))
  })

  it('a server that does not tell its load comes after those that do; ties keep the order', async () => {
    const loads = { [name(B)]: 2, [name(C)]: 2 }
    const { pool: p } = pool([A, B, C], { loads, leastLoaded: true })
    expect((await p.connection()).address).toBe(name(B))
  })

  it('a member that accepts and never welcomes does not hold the choice up (nor the command)', async () => {
    const loads = { [name(B)]: 4, [name(C)]: 2 }
    const { pool: p } = pool([A, B, C], { loads, leastLoaded: true, hang: new Set([name(A)]) })
    // Without the grace after the first welcome this waits for A for ever (the test times out).
    expect((await p.connection()).address).toBe(name(C))
  })

  it('a server that is down is skipped', async () => {
    const loads = { [name(A)]: 0, [name(B)]: 4 }
    const { pool: p } = pool([A, B], { loads, leastLoaded: true, down: new Set([name(A)]) })
    expect((await p.connection()).address).toBe(name(B))
  })
})
