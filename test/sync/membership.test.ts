// Membership between real servers on loopback (--peer, --peer-timeout 2s): a member killed with
// kill -9 is down at the others within the timeout + 2 s, and its return shows it up and caught
// up; a member that goes silent without closing anything (SIGSTOP) is down by the heartbeat
// watchdog; `status --json` lists the members with the clients each serves, as it changes; a
// member with another cluster key is refused in status at both ends.
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import type { LogEntry, MemberStatus } from '../../src/protocol/index.js'
import type { ClusterServer } from '../helpers/index.js'
import {
  newServer,
  freePorts,
  registerCleanup,
  tempDir,
  sha256Of,
  startCluster,
  TestClient,
  waitFor,
  waitTree,
} from '../helpers/index.js'
import { runCli } from '../client/run-cli.js'

const PEER_TIMEOUT_MS = 2_000
const ARGS = ['--peer-timeout', '2s']

async function memberAt(server: ClusterServer, name: string): Promise<MemberStatus | undefined> {
  return (await server.status()).members.find((m) => m.name === name)
}

async function stateAt(server: ClusterServer, name: string, state: MemberStatus['state']) {
  return waitFor(async () => (await memberAt(server, name))?.state === state, {
    timeoutMs: 20_000,
    intervalMs: 100,
    what: `${name} ${state} at ${server.name}`,
  })
}

/** The change log's first `op` row about `member` at `server` from `since` on. */
async function logged(server: ClusterServer, op: string, member: string, since: number) {
  return waitFor(
    async () =>
      (await server.cli<LogEntry[]>('log', '--limit', '1000')).find(
        (e) => e.op === op && e.time >= since && (e.detail ?? '').startsWith(member),
      ),
    { timeoutMs: 20_000, intervalMs: 100, what: `${op} of ${member} in ${server.name}'s log` },
  )
}

describe('membership', () => {
  it('kill -9 of a member: down at the others within --peer-timeout + 2 s; back: up and caught up', async () => {
    const [a, b, c] = await startCluster(3, { extraArgs: ARGS })
    for (const server of [a, b]) await stateAt(server, 'C', 'up')
    const killedAt = Date.now()
    await c.kill9()
    for (const server of [a, b]) {
      await stateAt(server, 'C', 'down')
      const left = await logged(server, 'member-left', 'C', killedAt)
      expect(left.time - killedAt).toBeLessThanOrEqual(PEER_TIMEOUT_MS + 2_000)
    }
    // Written while C is down: C must have it once it is back.
    await a.write('while-down.txt', 'made while C was down\n')
    await waitTree([b], new Map([['while-down.txt', sha256Of('made while C was down\n')]]))
    const backAt = Date.now()
    await c.start()
    for (const server of [a, b]) {
      await stateAt(server, 'C', 'up')
      await logged(server, 'member-joined', 'C', backAt)
    }
    await waitTree([c], new Map([['while-down.txt', sha256Of('made while C was down\n')]]), 20_000)
    expect((await memberAt(a, 'C'))?.backlog).toBe(0)
  }, 90_000)

  it('a member silent without a word (SIGSTOP) is down after --peer-timeout, up once it wakes', async () => {
    const [a, b] = await startCluster(2, { extraArgs: ARGS })
    await stateAt(a, 'B', 'up')
    const pid = (await b.status()).server.pid
    const wake = () => {
      try {
        process.kill(pid, 'SIGCONT')
      } catch {
        // gone already
      }
    }
    registerCleanup(wake)
    const stoppedAt = Date.now()
    process.kill(pid, 'SIGSTOP')
    await stateAt(a, 'B', 'down')
    const left = await logged(a, 'member-left', 'B', stoppedAt)
    // The watchdog's doing (no socket closed), within the timeout + 2 s.
    expect(left.detail).toContain('no heartbeat')
    expect(left.time - stoppedAt).toBeLessThanOrEqual(PEER_TIMEOUT_MS + 2_000)
    wake()
    await stateAt(a, 'B', 'up')
  }, 60_000)

  it('status --json lists every member with the clients it serves, which change as clients come and go', async () => {
    const [a, b] = await startCluster(2)
    const json = async () =>
      JSON.parse((await runCli(['--server', a.address, '--json', 'status'])).stdout.toString()) as {
        members: MemberStatus[]
      }
    const clientsOfB = async (n: number) =>
      waitFor(async () => (await memberAt(a, 'B'))?.clients === n, {
        timeoutMs: 15_000,
        intervalMs: 100,
        what: `B serving ${n} client(s), as A sees it`,
      })
    await clientsOfB(0)
    const listed = (await json()).members
    expect(listed).toHaveLength(1)
    expect(listed[0]).toMatchObject({
      name: 'B',
      addresses: [b.address],
      state: 'up',
      source: 'static',
      clients: 0,
      backlog: 0,
    })
    expect(listed[0]!.lastContact).toBeGreaterThan(Date.now() - 60_000)

    const one = await TestClient.connect(b.port, { clientId: 'member-test-1' })
    const two = await TestClient.connect(b.port, { clientId: 'member-test-2' })
    await clientsOfB(2)
    await one.close()
    await clientsOfB(1)
    await two.close()
    await clientsOfB(0)
    // The human form says it too.
    const human = (await runCli(['--server', a.address, 'status'])).stdout.toString()
    expect(human).toMatch(/members {2}1, 1 up/)
    expect(human).toMatch(/B \(127\.0\.0\.1:\d+\) up, static, 0 clients/)
  }, 60_000)

  it('a member that cannot prove the cluster key is refused in status, at both ends', async () => {
    const keyFile = (key: string): string => {
      const file = path.join(tempDir('tandem-key-'), 'cluster.key')
      writeFileSync(file, `${key}\n`)
      return file
    }
    const ports = await freePorts(4)
    const server = (name: string, i: number, key: string): ClusterServer =>
      newServer({
        name,
        port: ports[i]!,
        syncPort: ports[2 + i]!,
        peers: [`127.0.0.1:${ports[1 - i]!}`],
        extraArgs: [...ARGS, '--cluster-key', keyFile(key)],
      })
    const a = server('A', 0, 'a key of the cluster, long enough')
    const b = server('B', 1, 'another key, not the cluster one')
    await Promise.all([a.start(), b.start()])
    for (const [here, there] of [
      [a, b],
      [b, a],
    ] as const) {
      const refused = await waitFor(
        async () =>
          (await here.status()).members.find(
            (m) => m.addresses[0] === there.address && m.state === 'refused',
          ),
        { timeoutMs: 20_000, intervalMs: 100, what: `${there.name} refused at ${here.name}` },
      )
      expect(refused.reason).toEqual(expect.any(String))
      expect(refused.clients).toBeNull()
    }
  }, 60_000)
})
