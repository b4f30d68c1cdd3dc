// Following ERR_MOVED (partial replication): the pool runs the same work, with the same request
// id, at the first holder that answers, says nothing (no switch line), stays on its own server,
// and keeps one connection per holder; every holder failing is one error naming each.
import { describe, expect, it } from 'vitest'
import { TandemError, type Holder } from '../../src/protocol/index.js'
import type { ServerAddress } from '../../src/client/address.js'
import { ServerPool, type PoolConnection, type ServerSwitch } from '../../src/client/server-pool.js'

class StandIn implements PoolConnection {
  isClosed = false
  closedByClient = false
  constructor(readonly address: string) {}
  destroy(): void {
    this.closedByClient = true
    this.isClosed = true
  }
  close(): Promise<void> {
    this.isClosed = true
    return Promise.resolve()
  }
  lose(): TandemError {
    this.isClosed = true
    return new TandemError('ERR_CONNECTION_CLOSED', `connection to ${this.address} closed`)
  }
}

const A = { host: '127.0.0.1', port: 1 }
const at = (s: ServerAddress) => `${s.host}:${s.port}`
const B: Holder = { name: 'B', address: '127.0.0.1:2' }
const C: Holder = { name: 'C', address: '127.0.0.1:3' }

function moved(...holders: Holder[]): TandemError {
  return new TandemError(
    'ERR_MOVED',
    `'f' is not held at A: it is at ${holders.map((h) => h.name).join(', ')}`,
    { holders },
  )
}

function pool(down: string[] = []) {
  const opened: StandIn[] = []
  const switches: ServerSwitch[] = []
  const p = new ServerPool<StandIn>([A], {
    clientId: 'unit',
    onSwitch: (move) => switches.push(move),
    open: (address) => {
      const where = at(address)
      if (down.includes(where))
        return Promise.reject(
          new TandemError(
            'ERR_UNREACHABLE',
            `cannot reach the server at ${where}: connection refused`,
          ),
        )
      const conn = new StandIn(where)
      opened.push(conn)
      return Promise.resolve(conn)
    },
  })
  return { pool: p, opened, switches }
}

describe('ServerPool follows ERR_MOVED', () => {
  it('replays the work at the first holder with the same rid, silently, and stays on its server', async () => {
    const { pool: p, opened, switches } = pool()
    const seen: [string, string][] = []
    const work = async (conn: StandIn, rid: string): Promise<string> => {
      seen.push([conn.address, rid])
      if (conn.address === at(A)) throw moved(B, C)
      return `from ${conn.address}`
    }
    expect(await p.run(work)).toBe(`from ${B.address}`)
    expect(seen.map(([a]) => a)).toEqual([at(A), B.address])
    expect(seen[1]![1]).toBe(seen[0]![1])
    expect(switches).toEqual([])
    // The next unit of work starts at the pool's own server again; the holder's connection is
    // kept for it (a folder's files held at the same member share one connection).
    expect(await p.run(work)).toBe(`from ${B.address}`)
    expect(seen.map(([a]) => a)).toEqual([at(A), B.address, at(A), B.address])
    expect(opened.map((c) => c.address)).toEqual([at(A), B.address])
    expect(p.current?.address).toBe(at(A))
    await p.close()
    expect(opened.every((c) => c.isClosed)).toBe(true)
  })

  it('a holder that is down, lost under the work, or stale (ERR_MOVED itself) passes to the next', async () => {
    const down = pool([B.address])
    const work = async (conn: StandIn) => {
      if (conn.address === at(A)) throw moved(B, C)
      return conn.address
    }
    expect(await down.pool.run(work)).toBe(C.address)

    const lost = pool()
    expect(
      await lost.pool.run(async (conn) => {
        if (conn.address === at(A)) throw moved(B, C)
        if (conn.address === B.address) throw conn.lose()
        return conn.address
      }),
    ).toBe(C.address)

    const stale = pool()
    expect(
      await stale.pool.run(async (conn) => {
        if (conn.address === at(A)) throw moved(B, C)
        if (conn.address === B.address) throw moved({ name: 'A', address: at(A) })
        return conn.address
      }),
    ).toBe(C.address)
    // Never back and forth: B's own ERR_MOVED was not followed.
    expect(stale.opened.map((c) => c.address)).toEqual([at(A), B.address, C.address])
  })

  it("a holder's answer that is an error is the answer", async () => {
    const { pool: p } = pool()
    const error = await p
      .run(async (conn) => {
        if (conn.address === at(A)) throw moved(B, C)
        throw new TandemError('ERR_NOT_FOUND', "no file 'f'")
      })
      .catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'ERR_NOT_FOUND' })
  })

  it('every holder failing: ERR_UNREACHABLE naming each, the ERR_MOVED as its cause', async () => {
    const { pool: p } = pool([B.address, C.address])
    const error = (await p
      .run(async (conn) => {
        if (conn.address === at(A)) throw moved(B, C)
        return conn.address
      })
      .catch((e: unknown) => e)) as TandemError
    expect(error.code).toBe('ERR_UNREACHABLE')
    expect(error.message).toContain("'f' is not held at A")
    expect(error.message).toContain(`B at ${B.address}: cannot reach the server at ${B.address}`)
    expect(error.message).toContain(`C at ${C.address}`)
    expect((error.cause as TandemError).code).toBe('ERR_MOVED')
  })

  it('no replay at the next holder once the work says it cannot be (output already printed)', async () => {
    const { pool: p, opened } = pool()
    let printed = 0
    const error = await p
      .run(
        async (conn) => {
          if (conn.address === at(A)) throw moved(B, C)
          printed = 10
          throw conn.lose()
        },
        { canReplay: () => printed === 0 },
      )
      .catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'ERR_CONNECTION_CLOSED' })
    expect(opened.map((c) => c.address)).toEqual([at(A), B.address])
  })

  it('an ERR_MOVED without holders is not followed', async () => {
    const { pool: p, opened } = pool()
    const error = await p
      .run(async () => {
        throw new TandemError('ERR_MOVED', 'moved, nobody known')
      })
      .catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'ERR_MOVED' })
    expect(opened).toHaveLength(1)
  })
})
