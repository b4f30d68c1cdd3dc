// Two machines of the same host name (cloned images: every server's default --name is the host
// name) on the default ports: each hears the other's announcement with its own name and ports.
// It is not its own (it comes from another address): the twin must be reported, not taken
// silently for this server's own echo. In namespaces of a private lab.
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { it } from 'vitest'
import { startServer, tempDir, waitFor } from '../helpers/index.js'
import { createLab, describeNetns, type NetnsMember } from '../helpers/netns.js'

describeNetns('two servers of one name', () => {
  it('on the same ports at two addresses: each says another server has its name', async () => {
    const lab = createLab(2)
    const key = path.join(tempDir('tandem-key-'), 'key')
    writeFileSync(key, 'the-blue-cluster-key-0123456789\n')
    const [a, b] = lab.members as [NetnsMember, NetnsMember]
    const serve = (at: NetnsMember) =>
      startServer({
        name: 'pi',
        netns: at.ns,
        host: at.address,
        extraArgs: [
          ...['--port', '8001', '--sync-port', '5001'],
          ...['--cluster', 'blue', '--cluster-key', key],
        ],
      })
    const [first, second] = await Promise.all([serve(a), serve(b)])
    await waitFor(
      () =>
        first.output().includes(`another server at ${b.address} is also named pi`) &&
        second.output().includes(`another server at ${a.address} is also named pi`),
      { timeoutMs: 15_000, what: 'both servers to report the other one of the same name' },
    )
  })
})
