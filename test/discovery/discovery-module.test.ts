// The discovery modules (src/server/discovery, src/client/discovery.ts) on their own, each in a
// process inside a network namespace of a private lab: members find each other and nobody else,
// a member started later or restarted on other ports is found, the client finds a cluster's
// servers only, and garbage on the group stops nothing.
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'
import { createLab, describeNetns, execIn, spawnIn, type NetnsMember } from '../helpers/netns.js'
import { waitFor } from '../helpers/wait-for.js'

const PROBE = fileURLToPath(new URL('../helpers/discovery-probe.mjs', import.meta.url))

interface Member {
  name: string
  host: string
  port: number
  syncPort: number
  httpPort: number | null
}

interface Probe {
  proc: ChildProcess
  members(): Member[]
  warnings(): string[]
  /** The last place each member was reported at. */
  latest(): Map<string, Member>
}

function announce(
  at: NetnsMember,
  cluster: string,
  name: string,
  control: number,
  iface?: string,
): Probe {
  const options = {
    cluster,
    name,
    ports: { control, sync: control + 1, http: null },
    interface: iface,
  }
  const proc = spawnIn(at.ns, process.execPath, [PROBE, 'announce', JSON.stringify(options)])
  const lines: Record<string, unknown>[] = []
  let rest = ''
  proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n')
    rest = parts.pop() ?? ''
    for (const line of parts) lines.push(JSON.parse(line) as Record<string, unknown>)
  })
  let stderr = ''
  proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  proc.once('exit', (code) => {
    if (code !== 0 && code !== null) console.error(`probe ${name} exited ${code}: ${stderr}`)
  })
  const members = () => lines.filter((l) => l.member).map((l) => l.member as Member)
  return {
    proc,
    members,
    warnings: () => lines.filter((l) => l.warn).map((l) => l.warn as string),
    latest: () => new Map(members().map((m) => [m.name, m])),
  }
}

async function discover(
  at: NetnsMember,
  cluster: string,
  timeoutMs = 1500,
  iface?: string,
): Promise<unknown[]> {
  const run = await execIn(at.ns, process.execPath, [
    PROBE,
    'discover',
    JSON.stringify({ cluster, timeoutMs, interface: iface }),
  ])
  expect(run.stderr).toBe('')
  return (JSON.parse(run.stdout) as { servers: unknown[] }).servers
}

const names = (p: Probe): string[] => [...p.latest().keys()].sort()

describeNetns('discovery modules in namespaces', () => {
  it('three members find each other (address from the packet, ports from TXT), not another cluster', async () => {
    const lab = createLab(4)
    const [a, b, c, d] = lab.members as NetnsMember[]
    // A and the client name their interface (the socket must still be bound to 0.0.0.0, or it
    // hears nothing); B and C leave it to the multicast route.
    const pa = announce(a!, 'blue', 'A', 7001, a!.address)
    const pb = announce(b!, 'blue', 'B', 7101)
    const pc = announce(c!, 'blue', 'C', 7201)
    const other = announce(d!, 'green', 'D', 7301)
    await waitFor(() => [pa, pb, pc].every((p) => p.latest().size === 2), {
      what: 'every member to find the two others',
    })
    expect(names(pa)).toEqual(['B', 'C'])
    expect(names(pb)).toEqual(['A', 'C'])
    expect(pa.latest().get('B')).toEqual({
      name: 'B',
      host: b!.address,
      port: 7101,
      syncPort: 7102,
      httpPort: null,
    })
    expect(pc.latest().get('A')?.host).toBe(a!.address)
    // The green server heard the blue ones all along and reports none; they do not report it.
    expect(other.members()).toEqual([])
    for (const p of [pa, pb, pc]) expect(p.latest().has('D')).toBe(false)
    expect(pa.warnings()).toEqual([])

    // The client finds the blue servers only.
    const servers = (await discover(d!, 'blue', 1500, d!.address)) as Member[]
    expect(servers.map((s) => `${s.name}@${s.host}:${s.port}`).sort()).toEqual([
      `A@${a!.address}:7001`,
      `B@${b!.address}:7101`,
      `C@${c!.address}:7201`,
    ])
    expect(await discover(d!, 'nobody', 800)).toEqual([])
  })

  it('finds a member started later, and one restarted on other ports', async () => {
    const lab = createLab(3)
    const [a, b, c] = lab.members as NetnsMember[]
    const pa = announce(a!, 'blue', 'A', 7001)
    const pb = announce(b!, 'blue', 'B', 7101)
    await waitFor(() => pa.latest().has('B') && pb.latest().has('A'), { what: 'A and B' })
    const late = announce(c!, 'blue', 'C', 7201)
    await waitFor(() => pa.latest().has('C') && pb.latest().has('C') && late.latest().size === 2, {
      what: 'the late member to be found and to find the others',
    })
    // kill -9 (no goodbye), then back on other ports: the new ports are reported.
    late.proc.kill('SIGKILL')
    announce(c!, 'blue', 'C', 7301)
    await waitFor(
      () => pa.latest().get('C')?.port === 7301 && pb.latest().get('C')?.port === 7301,
      {
        what: 'the restarted member at its new ports',
      },
    )
  })

  it('garbage on the group (random bytes, lying headers, huge or mistyped TXT, a query flood) stops nothing', async () => {
    const lab = createLab(4)
    const [a, b, c, d] = lab.members as NetnsMember[]
    const pa = announce(a!, 'blue', 'A', 7001)
    const pb = announce(b!, 'blue', 'B', 7101)
    // Both sockets are up once they have found each other: only then does the garbage go.
    await waitFor(() => pa.latest().has('B') && pb.latest().has('A'), { what: 'A and B' })
    const garbage = await execIn(d!.ns, process.execPath, [
      PROBE,
      'garbage',
      JSON.stringify({ cluster: 'blue' }),
    ])
    expect(garbage.stderr).toBe('')
    expect(garbage.code).toBe(0)
    // 400 queries in about 2 s: each of the two members answered at most once per 200 ms (plus
    // its own periodic announcements), not once per query. Twice that bound, for timers that
    // bunch on a loaded machine (seen: up to 1.5×); without the limit there were about 770.
    const heard = JSON.parse(garbage.stdout) as {
      queries: number
      answers: number
      windowMs: number
    }
    expect(heard.answers).toBeGreaterThan(0)
    expect(heard.answers).toBeLessThanOrEqual(2 * 2 * (Math.ceil(heard.windowMs / 200) + 6))
    // Still running, reported none of the garbage, and still discovers a new member.
    const pc = announce(c!, 'blue', 'C', 7201)
    await waitFor(() => pa.latest().has('C') && pb.latest().has('C') && pc.latest().size === 2, {
      what: 'discovery to work after the garbage',
    })
    for (const p of [pa, pb]) {
      expect(p.proc.exitCode).toBe(null)
      expect(names(p)).toEqual(p === pa ? ['B', 'C'] : ['A', 'C'])
      expect(p.warnings()).toEqual([])
    }
  })
})
