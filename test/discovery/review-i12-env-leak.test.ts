// A developer who uses clusters has TANDEM_CLUSTER and TANDEM_CLUSTER_KEY in the shell (the README
// shows it). Test servers inherit the test run's environment: they must not join that cluster (they
// would announce on the real LAN and mirror test trees into it, or the cluster's files into them).
// The server here runs inside a namespace, so even when the promise breaks nothing leaves the host.
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { startServer } from '../helpers/index.js'
import { createLab, describeNetns, execIn } from '../helpers/netns.js'

const PROBE = fileURLToPath(new URL('../helpers/discovery-probe.mjs', import.meta.url))

const saved: Record<string, string | undefined> = {}
beforeEach(() => {
  for (const k of ['TANDEM_CLUSTER', 'TANDEM_CLUSTER_KEY']) saved[k] = process.env[k]
  process.env.TANDEM_CLUSTER = 'office'
  process.env.TANDEM_CLUSTER_KEY = 'the-office-cluster-key-0123456789'
})
afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
})

describeNetns('test servers and the developer’s cluster environment', () => {
  it('a test server started while TANDEM_CLUSTER(_KEY) are set joins no cluster', async () => {
    const lab = createLab(1)
    const [a] = lab.members
    await startServer({ netns: a!.ns, host: a!.address })
    // Ask the namespace's group for cluster "office" for 3 s: a server that joined it answers
    // (it also announces itself at start); one that did not stays silent.
    const found = await execIn(a!.ns, process.execPath, [
      PROBE,
      'discover',
      JSON.stringify({ cluster: 'office', timeoutMs: 3000 }),
    ])
    expect(found.code).toBe(0)
    expect(JSON.parse(found.stdout)).toEqual({ servers: [] })
  })
})
