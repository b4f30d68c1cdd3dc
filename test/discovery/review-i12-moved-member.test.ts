// A member restarted on other ports (same name, same tree) is followed: discovery sees the new
// ports and the others' link to it moves there, so its changes reach them again. In namespaces.
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { it } from 'vitest'
import { startServer, tempDir, waitFor } from '../helpers/index.js'
import { createLab, describeNetns, execIn, type NetnsMember } from '../helpers/netns.js'
import { CLI_BIN } from '../client/run-cli.js'

const CLUSTER = 'blue'

function keyFile(): string {
  const file = path.join(tempDir('tandem-key-'), 'key')
  writeFileSync(file, 'the-blue-cluster-key-0123456789\n')
  return file
}

function cli(at: NetnsMember, server: string, args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: tempDir('tandem-cli-') }
  delete env.TANDEM_SERVER
  env.TANDEM_CLIENT_ID = `moved-${at.address}`
  return execIn(at.ns, process.execPath, [CLI_BIN, '--server', server, ...args], { env })
}

async function catAt(at: NetnsMember, port: number, name: string): Promise<string | null> {
  const run = await cli(at, `${at.address}:${port}`, ['cat', name])
  return run.code === 0 ? run.stdout : null
}

describeNetns('a member restarted on other ports', () => {
  it('is followed: its changes made after the move reach the others', async () => {
    const lab = createLab(2)
    const [a, b] = lab.members as [NetnsMember, NetnsMember]
    const key = keyFile()
    const serve = (at: NetnsMember, name: string, port: number, sync: number, dirs = {}) =>
      startServer({
        name,
        netns: at.ns,
        host: at.address,
        ...dirs,
        extraArgs: [
          ...['--port', String(port), '--sync-port', String(sync)],
          ...['--cluster', CLUSTER, '--cluster-key', key],
        ],
      })
    await serve(a, 'A', 8001, 5001)
    const first = await serve(b, 'B', 8001, 5001)
    writeFileSync(path.join(first.root, 'before.txt'), 'before\n')
    await waitFor(async () => (await catAt(a, 8001, 'before.txt')) === 'before\n', {
      what: 'A to mirror B before the move',
    })
    await first.stop()
    // B again, same name and tree, other ports.
    const moved = await serve(b, 'B', 8101, 5101, { root: first.root, stateDir: first.stateDir })
    writeFileSync(path.join(moved.root, 'after.txt'), 'after\n')
    await waitFor(async () => (await catAt(a, 8001, 'after.txt')) === 'after\n', {
      timeoutMs: 20_000,
      what: 'A to mirror what B wrote after it moved to port 8101',
    })
  })
})
