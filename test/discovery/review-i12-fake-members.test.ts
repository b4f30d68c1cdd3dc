// Anyone on the LAN can announce members of a cluster whose name it heard (the name is in every
// TXT record). Thousands of made-up members must not give a server thousands of peer links, each
// dialling without end, nor a console line per made-up name; the client must not dial them all.
// Everything runs in namespaces of a private lab.
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import { expect, it } from 'vitest'
import { startServer, tempDir, waitFor } from '../helpers/index.js'
import { createLab, describeNetns, execIn, type NetnsMember } from '../helpers/netns.js'
import { CLI_BIN } from '../client/run-cli.js'

const CLUSTER = 'blue'
const PROBE = fileURLToPath(new URL('../helpers/discovery-probe.mjs', import.meta.url))
const FAKES = 500
/** The most members discovery may hand out (a cluster is a handful of servers). */
const MAX_DISCOVERED = 64

function keyFile(): string {
  const file = path.join(tempDir('tandem-key-'), 'key')
  writeFileSync(file, 'the-blue-cluster-key-0123456789\n')
  return file
}

async function statusOf(at: NetnsMember): Promise<{ name: string | null; address?: string }[]> {
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: tempDir('tandem-cli-') }
  delete env.TANDEM_SERVER
  const run = await execIn(
    at.ns,
    process.execPath,
    [CLI_BIN, '--server', `${at.address}:8001`, 'status', '--json'],
    { env },
  )
  if (run.code !== 0) throw new Error(`status failed: ${run.stderr}`)
  const status = JSON.parse(run.stdout) as { members?: []; peers?: [] }
  return status.members ?? status.peers ?? []
}

function fakes(at: NetnsMember, options: object) {
  return execIn(at.ns, process.execPath, [
    PROBE,
    'fake-members',
    JSON.stringify({ cluster: CLUSTER, ...options }),
  ])
}

describeNetns('made-up members on the group', () => {
  it(`${FAKES} made-up members: at most ${MAX_DISCOVERED} links, the server keeps serving`, async () => {
    const lab = createLab(2)
    const [a, g] = lab.members as [NetnsMember, NetnsMember]
    const server = await startServer({
      name: 'A',
      netns: a.ns,
      host: a.address,
      extraArgs: ['--port', '8001', '--cluster', CLUSTER, '--cluster-key', keyFile()],
    })
    expect((await fakes(g, { count: FAKES })).code).toBe(0)
    // The fakes reach A within moments: wait until some are there, then count.
    await waitFor(async () => (await statusOf(a)).length > 0, { what: 'A to take up members' })
    await waitFor(async () => (await statusOf(a)).length >= Math.min(FAKES, MAX_DISCOVERED), {
      what: 'A to take up the fakes it takes',
    })
    expect((await statusOf(a)).length).toBeLessThanOrEqual(MAX_DISCOVERED)
    expect(server.proc.exitCode).toBeNull()
  })

  it('made-up members of another protocol version: a bounded number of console lines', async () => {
    const lab = createLab(2)
    const [a, g] = lab.members as [NetnsMember, NetnsMember]
    const server = await startServer({
      name: 'A',
      netns: a.ns,
      host: a.address,
      extraArgs: ['--port', '8001', '--cluster', CLUSTER, '--cluster-key', keyFile()],
    })
    expect((await fakes(g, { count: FAKES, v: 99, prefix: 'old' })).code).toBe(0)
    // A real member of the right version after them: once A has it, the fakes were all read.
    expect((await fakes(g, { count: 1, prefix: 'real' })).code).toBe(0)
    await waitFor(async () => (await statusOf(a)).length > 0, { what: 'A to take up real-0' })
    const lines = server
      .output()
      .split('\n')
      .filter((l) => l.includes('speaks protocol'))
    expect(lines.length).toBeGreaterThan(0)
    expect(lines.length).toBeLessThanOrEqual(20)
  })

  it(`the client given ${FAKES} made-up servers dials at most ${MAX_DISCOVERED}`, async () => {
    const lab = createLab(2)
    const [c, g] = lab.members as [NetnsMember, NetnsMember]
    // The fakes answer the client's first query, while it listens.
    const sender = fakes(g, { count: FAKES, afterQuery: true })
    const probe = execIn(c.ns, process.execPath, [
      PROBE,
      'discover',
      JSON.stringify({ cluster: CLUSTER, timeoutMs: 3000 }),
    ])
    expect((await sender).code).toBe(0)
    const found = await probe
    expect(found.code).toBe(0)
    const { servers } = JSON.parse(found.stdout) as { servers: unknown[] }
    expect(servers.length).toBeGreaterThan(0)
    expect(servers.length).toBeLessThanOrEqual(MAX_DISCOVERED)
  })
})
