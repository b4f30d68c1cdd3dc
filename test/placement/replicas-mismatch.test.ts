// Every member of a cluster must keep the same number of copies: a peer with another --replicas
// (or none, which means every member) is refused at the handshake by both sides, shown in
// `status --json` as a refused member with a reason naming --replicas, ERR_REPLICAS_MISMATCH in
// the change log (as a refused cluster key is), and nothing is mirrored between the two.
import { access } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import type { LogEntry, MemberStatus } from '../../src/protocol/index.js'
import type { ClusterServer } from '../helpers/index.js'
import { waitFor } from '../helpers/index.js'
import { startPlacementCluster } from '../helpers/placement.js'

interface StatusJson {
  members: MemberStatus[]
  sync: { files?: number }
}

describe('placement: a mismatched --replicas', () => {
  it.each([
    { a: ['--replicas', '2'], b: ['--replicas', '3'] },
    { a: ['--replicas', '2'], b: [] },
  ])(
    'A $a against B $b: refused at the handshake, at both ends',
    async ({ a: argsA, b: argsB }) => {
      const servers = await startPlacementCluster({
        members: 2,
        replicas: null,
        waitUp: false,
        argsOf: (name) => (name === 'A' ? argsA : argsB),
      })
      const [a, b] = servers as [ClusterServer, ClusterServer]
      await a.write('only-at-a.txt', 'made at A\n')
      await b.write('only-at-b.txt', 'made at B\n')
      for (const [here, there] of [
        [a, b],
        [b, a],
      ] as const) {
        const refused = await waitFor(
          async () =>
            (await here.cli<StatusJson>('status')).members.find(
              (m) => m.addresses.includes(there.address) && m.state === 'refused',
            ),
          { timeoutMs: 20_000, intervalMs: 200, what: `${there.name} refused at ${here.name}` },
        )
        expect(refused.reason ?? '').toContain('--replicas')
        // The code, as for a refused cluster key: in the change log's member-refused entry.
        await waitFor(
          async () =>
            (await here.cli<LogEntry[]>('log', '--limit', '1000')).some(
              (e) =>
                e.op === 'member-refused' && (e.detail ?? '').includes('ERR_REPLICAS_MISMATCH'),
            ),
          {
            timeoutMs: 10_000,
            intervalMs: 200,
            what: `ERR_REPLICAS_MISMATCH in ${here.name}'s log`,
          },
        )
      }
      // Nothing crossed: each index holds its own file only (once scanned), and so does each disk.
      for (const server of servers)
        await waitFor(async () => (await server.cli<StatusJson>('status')).sync.files === 1, {
          timeoutMs: 10_000,
          intervalMs: 200,
          what: `${server.name}'s index to hold its own file, and only it`,
        })
      expect(await exists(b, 'only-at-a.txt')).toBe(false)
      expect(await exists(a, 'only-at-b.txt')).toBe(false)
    },
    60_000,
  )
})

function exists(server: ClusterServer, name: string): Promise<boolean> {
  return access(server.file(name)).then(
    () => true,
    () => false,
  )
}
