// Clusters that assemble themselves, end to end: real servers in network namespaces of a private
// lab, started with --cluster NAME and a cluster key and no --peer. Every check runs the real CLI
// inside a namespace (the host cannot reach the lab's addresses). The lab, its processes and
// directories are removed when each test ends, also on failure.
import { readdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import { expect, it } from 'vitest'
import { startServer, tempDir, waitFor, type ServerHandle } from '../helpers/index.js'
import { createLab, describeNetns, execIn, type NetnsMember } from '../helpers/netns.js'
import { CLI_BIN } from '../client/run-cli.js'

const CLUSTER = 'blue'
const PROBE = fileURLToPath(new URL('../helpers/discovery-probe.mjs', import.meta.url))
/** The promise: three members find each other within this long. */
const ASSEMBLE_MS = 10_000
/** --peer-timeout's default. */
const PEER_TIMEOUT_MS = 5_000

function keyFile(key: string): string {
  const file = path.join(tempDir('tandem-key-'), 'key')
  writeFileSync(file, `${key}\n`)
  return file
}

/** A clustered server in `at`'s namespace, on its bridge address, default ports, no --peer. */
function serveIn(at: NetnsMember, name: string, key: string, extra: string[] = []) {
  return startServer({
    name,
    netns: at.ns,
    host: at.address,
    extraArgs: [
      '--port',
      '8001',
      '--sync-port',
      '5001',
      '--cluster',
      CLUSTER,
      '--cluster-key',
      key,
      ...extra,
    ],
  })
}

/** The CLI inside `at`'s namespace; `server` null: no --server (discovery decides). */
async function cli(at: NetnsMember, server: string | null, args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: tempDir('tandem-cli-') }
  delete env.TANDEM_SERVER
  env.TANDEM_CLIENT_ID = `e2e-${at.address}`
  const run = await execIn(
    at.ns,
    process.execPath,
    [CLI_BIN, ...(server ? ['--server', server] : []), ...args],
    { env },
  )
  return run
}

interface MemberLike {
  name: string | null
  state: string
}

/** Names of the members `server` sees up (`members` once membership exists, `peers` before). */
async function upNames(at: NetnsMember): Promise<string[]> {
  const run = await cli(at, `${at.address}:8001`, ['status', '--json'])
  if (run.code !== 0) return []
  const status = JSON.parse(run.stdout) as { members?: MemberLike[]; peers?: MemberLike[] }
  const list = status.members ?? status.peers ?? []
  return list
    .filter((m) => m.state === 'up')
    .map((m) => m.name ?? '?')
    .sort()
}

/** The details of the member-refused rows of the change log of the server in `at`. */
async function refusedIn(at: NetnsMember): Promise<string[]> {
  const run = await cli(at, `${at.address}:8001`, ['log', '--json', '--limit', '1000'])
  if (run.code !== 0) return []
  const entries = JSON.parse(run.stdout) as { op: string; detail?: string }[]
  return entries.filter((e) => e.op === 'member-refused').map((e) => e.detail ?? '')
}

async function catAt(at: NetnsMember, name: string): Promise<string | null> {
  const run = await cli(at, `${at.address}:8001`, ['cat', name])
  return run.code === 0 ? run.stdout : null
}

describeNetns('clusters by discovery, in namespaces', () => {
  it('three servers with --cluster and a key (no --peer) find each other within 10 s and mirror a file; a member killed with kill -9 is down, and back up and caught up when it returns', async () => {
    const lab = createLab(3)
    const [a, b, c] = lab.members as NetnsMember[]
    const key = keyFile('the-blue-cluster-key-0123456789')
    const servers = await Promise.all([
      serveIn(a!, 'A', key),
      serveIn(b!, 'B', key),
      serveIn(c!, 'C', key),
    ])
    const started = Date.now()
    await waitFor(
      async () => {
        const seen = await Promise.all([a!, b!, c!].map(upNames))
        return seen.every((names, i) => names.length === 2 && !names.includes('ABC'[i]!))
      },
      { timeoutMs: ASSEMBLE_MS, intervalMs: 200, what: 'every server to see the two others up' },
    )
    expect(Date.now() - started).toBeLessThan(ASSEMBLE_MS)

    const file = path.join(servers[0]!.root, 'hello.txt')
    writeFileSync(file, 'from A\n')
    for (const at of [b!, c!])
      await waitFor(async () => (await catAt(at, 'hello.txt')) === 'from A\n', {
        what: `hello.txt at ${at.address}`,
      })

    // kill -9 of C (no goodbye; its records would live on elsewhere): down at A and B by their
    // links (within the peer timeout + 2 s), then back: found again, up, and caught up.
    await servers[2]!.kill9()
    const killed = Date.now()
    await waitFor(
      async () => !(await upNames(a!)).includes('C') && !(await upNames(b!)).includes('C'),
      { timeoutMs: PEER_TIMEOUT_MS + 2_000, intervalMs: 200, what: 'C down at A and B' },
    )
    expect(Date.now() - killed).toBeLessThan(PEER_TIMEOUT_MS + 2_000)
    writeFileSync(path.join(servers[0]!.root, 'while-c-was-down.txt'), 'missed\n')
    await servers[2]!.restart()
    await waitFor(
      async () => (await upNames(a!)).includes('C') && (await upNames(c!)).join() === 'A,B',
      { timeoutMs: ASSEMBLE_MS, intervalMs: 200, what: 'C back up at A, and A and B up at C' },
    )
    await waitFor(async () => (await catAt(c!, 'while-c-was-down.txt')) === 'missed\n', {
      what: 'C to catch up',
    })
  })

  it('`tandem --cluster NAME ls` with no --server finds the cluster', async () => {
    const lab = createLab(3)
    const [a, b, d] = lab.members as NetnsMember[]
    const key = keyFile('the-blue-cluster-key-0123456789')
    const [sa] = await Promise.all([serveIn(a!, 'A', key), serveIn(b!, 'B', key)])
    writeFileSync(path.join(sa.root, 'hello.txt'), 'from A\n')
    await waitFor(async () => (await catAt(a!, 'hello.txt')) !== null, {
      what: 'hello.txt indexed',
    })
    // From a third namespace: no --server, only the cluster's name.
    const ls = await cli(d!, null, ['--cluster', CLUSTER, 'ls', '--json'])
    expect(ls.stderr).toBe('')
    expect(ls.code).toBe(0)
    expect(ls.stdout).toContain('hello.txt')
    const missing = await cli(d!, null, ['--cluster', 'nobody', 'ls'])
    expect(missing.code).not.toBe(0)
  })

  it('a server with the same cluster name and another key is refused (ERR_AUTH on both sides) and receives nothing', async () => {
    const lab = createLab(3)
    const [a, b, x] = lab.members as NetnsMember[]
    const key = keyFile('the-blue-cluster-key-0123456789')
    const [sa] = await Promise.all([serveIn(a!, 'A', key), serveIn(b!, 'B', key)])
    writeFileSync(path.join(sa.root, 'secret.txt'), 'only for the key holders\n')
    await waitFor(async () => (await catAt(b!, 'secret.txt')) !== null, {
      what: 'secret.txt at B',
    })
    const intruder: ServerHandle = await serveIn(
      x!,
      'X',
      keyFile('another-key-entirely-9876543210'),
    )
    // Refused on both sides: each change log has a member-refused row naming the other.
    await waitFor(
      async () =>
        (await refusedIn(a!)).some((d) => d.includes('X')) &&
        (await refusedIn(x!)).some((d) => d.includes('A')),
      { timeoutMs: 15_000, intervalMs: 200, what: 'A and the intruder to refuse each other' },
    )
    // And it never received a byte: nothing in its directory, nothing in its listing.
    expect(await catAt(x!, 'secret.txt')).toBe(null)
    const ls = await cli(x!, `${x!.address}:8001`, ['ls', '--json'])
    expect(ls.stdout).not.toContain('secret.txt')
    expect(readdirSync(intruder.root)).toEqual([])
  })

  it('garbage mDNS packets on the group: the servers keep serving and still discover a member started after', async () => {
    const lab = createLab(4)
    const [a, b, c, g] = lab.members as NetnsMember[]
    const key = keyFile('the-blue-cluster-key-0123456789')
    await Promise.all([serveIn(a!, 'A', key), serveIn(b!, 'B', key)])
    await waitFor(async () => (await upNames(a!)).includes('B'), { what: 'A to see B up' })
    const garbage = await execIn(g!.ns, process.execPath, [
      PROBE,
      'garbage',
      JSON.stringify({ cluster: CLUSTER }),
    ])
    expect(garbage.code).toBe(0)
    await serveIn(c!, 'C', key)
    await waitFor(
      async () => (await upNames(a!)).join() === 'B,C' && (await upNames(b!)).join() === 'A,C',
      { timeoutMs: ASSEMBLE_MS, intervalMs: 200, what: 'A and B to find C after the garbage' },
    )
    const ls = await cli(a!, `${a!.address}:8001`, ['ls'])
    expect(ls.code).toBe(0)
  })
})
