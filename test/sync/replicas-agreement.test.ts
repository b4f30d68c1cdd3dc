// Every member of a cluster keeps the same number of copies (--replicas): two real servers on
// loopback, each the other's --peer, that disagree (2 and 3; a copy on every member and 2) are
// refused at both ends — `status --json` lists the other as `refused` with a reason, the change
// log has its member-refused row with ERR_REPLICAS_MISMATCH — and no file crosses. Two that agree
// link (so the refusal is the mismatch's doing). The welcome a real server gives a peer says its
// --replicas, HTTP port and disk capacity; a hand-made peer of another --replicas is refused on
// the control port and on the file-exchange port's index channel, with nothing sent after.
import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { LogEntry, MemberStatus } from '../../src/protocol/index.js'
import type { ClusterServer } from '../helpers/index.js'
import { freePorts, newServer, rawConnect, showOutputOnFailure, waitFor } from '../helpers/index.js'

const ARGS = ['--peer-timeout', '2s']

/** Two servers, each the other's --peer, with these --replicas (null: none given). */
async function pair(ka: number | null, kb: number | null): Promise<[ClusterServer, ClusterServer]> {
  const ports = await freePorts(4)
  const server = (name: string, i: number, k: number | null): ClusterServer =>
    newServer({
      name,
      port: ports[i]!,
      syncPort: ports[2 + i]!,
      peers: [`127.0.0.1:${ports[1 - i]!}`],
      extraArgs: [...ARGS, ...(k === null ? [] : ['--replicas', String(k)])],
    })
  const servers: [ClusterServer, ClusterServer] = [server('A', 0, ka), server('B', 1, kb)]
  showOutputOnFailure(servers)
  await Promise.all(servers.map((s) => s.start()))
  return servers
}

async function memberAt(
  here: ClusterServer,
  there: ClusterServer,
): Promise<MemberStatus | undefined> {
  return (await here.status()).members.find((m) => m.addresses[0] === there.address)
}

describe('--replicas must agree', () => {
  for (const [ka, kb] of [
    [2, 3],
    [null, 2],
  ] as const) {
    it(`--replicas ${ka ?? '(none)'} and ${kb}: refused at both ends, and no file crosses`, async () => {
      const [a, b] = await pair(ka, kb)
      await a.write('only-at-a.txt', 'A keeps this\n')
      await b.write('only-at-b.txt', 'B keeps this\n')
      for (const [here, there] of [
        [a, b],
        [b, a],
      ] as const) {
        const refused = await waitFor(
          async () => {
            const m = await memberAt(here, there)
            return m?.state === 'refused' ? m : undefined
          },
          { timeoutMs: 20_000, intervalMs: 100, what: `${there.name} refused at ${here.name}` },
        )
        expect(refused.reason).toEqual(expect.any(String))
        const row = await waitFor(
          async () =>
            (await here.cli<LogEntry[]>('log', '--limit', '1000')).find(
              (e) =>
                e.op === 'member-refused' && (e.detail ?? '').includes('ERR_REPLICAS_MISMATCH'),
            ),
          {
            timeoutMs: 20_000,
            intervalMs: 200,
            what: `a member-refused row in ${here.name}'s log`,
          },
        )
        expect(row.detail).toContain(there.name)
      }
      // Each has its own file indexed, and never the other's: not listed, not on disk.
      for (const [here, own, other] of [
        [a, 'only-at-a.txt', 'only-at-b.txt'],
        [b, 'only-at-b.txt', 'only-at-a.txt'],
      ] as const) {
        await waitFor(async () => (await here.list()).some((r) => r.name === own), {
          what: `${own} indexed at ${here.name}`,
        })
        expect((await here.list()).map((r) => r.name)).not.toContain(other)
        expect(existsSync(here.file(other))).toBe(false)
      }
      // Still refused (a retry does not get through), never up.
      for (const [here, there] of [
        [a, b],
        [b, a],
      ] as const)
        expect((await memberAt(here, there))?.state).toBe('refused')
    }, 60_000)
  }

  it('--replicas 2 on both: they link, and a file crosses', async () => {
    const [a, b] = await pair(2, 2)
    await a.write('shared.txt', 'both hold this\n')
    for (const [here, there] of [
      [a, b],
      [b, a],
    ] as const)
      await waitFor(async () => (await memberAt(here, there))?.state === 'up', {
        timeoutMs: 20_000,
        intervalMs: 100,
        what: `${there.name} up at ${here.name}`,
      })
    // Two members, two copies: B holds it too.
    await waitFor(async () => (await b.list()).some((r) => r.name === 'shared.txt'), {
      timeoutMs: 20_000,
      what: 'shared.txt listed at B',
    })
  }, 60_000)

  it("a real server's welcome to a peer says its --replicas, HTTP port and capacity; a mismatched hello gets ERR_REPLICAS_MISMATCH", async () => {
    const [port, syncPort] = await freePorts(2)
    const server = newServer({
      name: 'A',
      port: port!,
      syncPort: syncPort!,
      extraArgs: ['--replicas', '2'],
      http: true,
    })
    showOutputOnFailure([server])
    await server.start()
    const httpPort = Number(new URL(server.httpUrl).port)
    const hello = { type: 'hello', role: 'peer', id: 'Z' }
    const agreeing = await rawConnect(port!)
    await agreeing.sendPreamble()
    await agreeing.sendControl({ ...hello, replicas: 2 })
    const welcome = await agreeing.nextControl(5_000)
    expect(welcome).toMatchObject({
      type: 'welcome',
      sync: { port: syncPort, replicas: 2, http: httpPort, capacity: expect.any(Number) },
    })
    expect((welcome.sync as { capacity: number }).capacity).toBeGreaterThanOrEqual(1)
    agreeing.destroy()
    for (const theirs of [{ replicas: 3 }, {}]) {
      const other = await rawConnect(port!)
      await other.sendPreamble()
      await other.sendControl({ ...hello, ...theirs })
      const refusal = await other.nextControl(5_000)
      expect(refusal).toMatchObject({ type: 'error', error: { code: 'ERR_REPLICAS_MISMATCH' } })
      await other.closed
    }
    // The file-exchange port asks an index channel the same, and says its own in the welcome.
    const index = { type: 'peer-hello', server: 'Z', channel: 'index' }
    const exchange = await rawConnect(syncPort!)
    await exchange.sendPreamble()
    await exchange.sendControl({ ...index, replicas: 2 })
    expect(await exchange.nextControl(5_000)).toMatchObject({ type: 'peer-welcome', replicas: 2 })
    exchange.destroy()
    for (const theirs of [{ replicas: 3 }, {}]) {
      const other = await rawConnect(syncPort!)
      await other.sendPreamble()
      await other.sendControl({ ...index, ...theirs })
      const refusal = await other.nextControl(5_000)
      expect(refusal).toMatchObject({ type: 'error', error: { code: 'ERR_REPLICAS_MISMATCH' } })
      // Nothing follows the refusal: no entries.
      await other.closed
      expect(other.frames.filter((f) => f.kind === 'control')).toHaveLength(1)
    }
    // It keeps serving.
    expect((await server.status()).sync).toBeDefined()
  }, 60_000)
})
