// `tandem serve --cluster NAME`: its options, checked at startup (one `error: ERR_USAGE: …` line,
// exit 2), and the promise that a server without --cluster opens no multicast-DNS socket.
import { readFileSync, writeFileSync } from 'node:fs'
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { deadline, exitOf, spawnServer, startServer, tempDir } from '../helpers/index.js'
import { createLab, describeNetns } from '../helpers/netns.js'

const ONE_ERROR_LINE = /^error: (ERR_[A-Z_]+): [^\n]+\n$/
const KEY = 'a-cluster-key-of-32-bytes-length'

function layout(): { root: string; stateDir: string; keyFile: string } {
  const base = tempDir('tandem-cluster-flags-')
  const root = path.join(base, 'root')
  const stateDir = path.join(base, 'state')
  mkdirSync(root)
  mkdirSync(stateDir)
  const keyFile = path.join(base, 'key')
  writeFileSync(keyFile, `${KEY}\n`)
  return { root, stateDir, keyFile }
}

async function failedStart(
  extraArgs: (keyFile: string) => string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; output: string }> {
  const dirs = layout()
  const server = spawnServer({ ...dirs, extraArgs: extraArgs(dirs.keyFile), env })
  const code = await deadline(exitOf(server.proc), 20_000, 'the server to give up')
  return { code, output: server.output() }
}

/** The UDP ports a process's network namespace has sockets on (from /proc, no tool needed). */
function udpPorts(pid: number): number[] {
  return readFileSync(`/proc/${pid}/net/udp`, 'utf8')
    .split('\n')
    .slice(1)
    .filter(Boolean)
    .map((line) => parseInt(line.trim().split(/\s+/)[1]!.split(':')[1]!, 16))
}

describe('serve --cluster: startup checks', () => {
  it.each([
    ['--cluster without a key', () => ['--cluster', 'blue'], {}],
    ['TANDEM_CLUSTER without a key', () => [], { TANDEM_CLUSTER: 'blue' }],
    ['a bad cluster name', (k: string) => ['--cluster', 'a/b', '--cluster-key', k], {}],
    [
      'a server name too long for a DNS label (64)',
      (k: string) => ['--cluster', 'blue', '--cluster-key', k, '--name', 'n'.repeat(64)],
      {},
    ],
    [
      'a --cluster-interface that is no IPv4 address',
      (k: string) => ['--cluster', 'blue', '--cluster-key', k, '--cluster-interface', 'eth0'],
      {},
    ],
  ])('%s: ERR_USAGE, exit 2', async (_, args, env) => {
    const { code, output } = await failedStart(args, env)
    expect(output).toMatch(ONE_ERROR_LINE)
    expect(ONE_ERROR_LINE.exec(output)?.[1]).toBe('ERR_USAGE')
    expect(code).toBe(2)
  })
})

describeNetns('serve --cluster: the mDNS socket', () => {
  it('a server without --cluster opens no mDNS socket; with --cluster it does', async () => {
    const lab = createLab(2)
    const [a, b] = lab.members
    const plain = await startServer({ netns: a!.ns, host: a!.address })
    expect(udpPorts(plain.proc.pid!)).not.toContain(5353)
    const dirs = layout()
    const clustered = await startServer({
      ...dirs,
      netns: b!.ns,
      host: b!.address,
      extraArgs: ['--cluster', 'blue', '--cluster-key', dirs.keyFile],
    })
    // The socket opens right after the ports listen: poll for it.
    const { waitFor } = await import('../helpers/wait-for.js')
    await waitFor(() => udpPorts(clustered.proc.pid!).includes(5353), {
      what: 'the clustered server to open its mDNS socket',
    })
    // Still none in the first namespace (the check sees every socket of that namespace).
    expect(udpPorts(plain.proc.pid!)).not.toContain(5353)
  })
})
