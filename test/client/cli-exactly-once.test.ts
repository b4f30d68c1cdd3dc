// Exactly once through the real client: an append whose answer is lost, because its server is
// killed after the commit and before the reply (the servers' test hook TANDEM_TEST_HOOK), is
// replayed by the client at the other member with the same request id, and the line is there
// once. Runs where the hook is built (the exactly-once part of the servers); skipped before.
import { existsSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { deadline, startCluster, tempDir, waitFor, type ClusterServer } from '../helpers/index.js'
import { spawnCli } from './run-cli.js'

const HOOK_BUILT = existsSync(new URL('../../dist/server/ops/test-hook.js', import.meta.url))
const LINE = 'appended once\n'

function content(server: ClusterServer, name: string): string | undefined {
  try {
    return readFileSync(server.file(name), 'utf8')
  } catch {
    return undefined
  }
}

/** Two mirroring servers, the first with the test hook; log.txt on both. */
async function pairWithHook(hook: string): Promise<[ClusterServer, ClusterServer]> {
  const [a, b] = await startCluster(2, {
    beforeStart: (servers) => {
      // `env`: extra environment for a server's next start (set before it starts).
      Object.assign(servers[0]!, { env: { TANDEM_TEST_HOOK: hook } })
    },
  })
  await a.write('log.txt', 'start\n')
  await waitFor(() => content(b, 'log.txt') === 'start\n', { what: 'log.txt at B' })
  return [a, b]
}

async function appendThroughClient(a: ClusterServer, b: ClusterServer) {
  const env = { TANDEM_CLIENT_ID: 'once-client', XDG_CONFIG_HOME: tempDir('tandem-cli-config-') }
  const run = spawnCli(
    ['--server', `${a.address},${b.address}`, 'append', 'log.txt', '--text', LINE],
    { env },
  )
  const code = await deadline(run.exited, 60_000, 'the append to finish')
  return { code, stderr: run.stderr() }
}

describe.skipIf(!HOOK_BUILT)(
  "exactly once through the client (needs the servers' test hook)",
  () => {
    it('killed after the peer has it: the replay at B answers the original result; the line is there once', async () => {
      const [a, b] = await pairWithHook('kill-after-peers:append')
      const run = await appendThroughClient(a, b)
      expect(run.code, run.stderr).toBe(0)
      expect(run.stderr).toContain(`lost the server at ${a.address}`)
      expect(run.stderr).toContain(`continuing on ${b.address}`)
      await waitFor(() => !a.running, { what: 'A killed by the hook' })
      expect(content(b, 'log.txt')).toBe(`start\n${LINE}`)
    }, 120_000)

    it('killed before the peer has it: the replay applies at B; once A is back, still once everywhere', async () => {
      const [a, b] = await pairWithHook('kill-after-commit:append')
      const run = await appendThroughClient(a, b)
      expect(run.code, run.stderr).toBe(0)
      expect(run.stderr).toContain(`continuing on ${b.address}`)
      expect(content(b, 'log.txt')).toBe(`start\n${LINE}`)
      Object.assign(a, { env: {} })
      await a.start()
      await waitFor(
        async () =>
          (await a.list()).filter((r) => r.name.startsWith('log')).length === 1 &&
          content(a, 'log.txt') === `start\n${LINE}`,
        { timeoutMs: 30_000, what: 'A caught up, with log.txt once and no conflict copy' },
      )
      expect((await b.list()).map((r) => r.name).filter((n) => n.startsWith('log'))).toEqual([
        'log.txt',
      ])
    }, 120_000)
  },
)
