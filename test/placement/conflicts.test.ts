// Conflicts with --replicas 2 of 3: the same file edited at its two holders while they are cut
// apart (one stopped; the grace period long enough that no copy is made meanwhile) ends with the
// newer edit under the name and the older as NAME.sync-conflict-…-SERVER.EXT, each on exactly 2
// disks, and every member's `ls --json` lists both with their holders, the third member too.
import fs from 'node:fs/promises'
import { describe, it } from 'vitest'
import type { ClusterServer } from '../helpers/index.js'
import { sha256Of } from '../helpers/index.js'
import { startPlacementCluster, waitCopies, waitSettled } from '../helpers/placement.js'

/** The conflict copy's expected name, computed here independently of the server's code. */
function expectedConflictName(stem: string, ext: string, mtimeSeconds: number, server: string) {
  const d = new Date(mtimeSeconds * 1000)
  const two = (n: number) => String(n).padStart(2, '0')
  const date = `${d.getUTCFullYear()}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}`
  const time = `${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}`
  return `${stem}.sync-conflict-${date}-${time}-${server}${ext}`
}

/** Write `content` to `name` on `server`'s disk with an exact modification time (seconds). */
async function writeWithMtime(server: ClusterServer, name: string, content: string, mtime: number) {
  await server.write(name, content)
  await fs.utimes(server.file(name), mtime, mtime)
}

describe('placement: conflicts between the two holders', () => {
  it.each([{ older: 'other holder' }, { older: 'creator' }])(
    'edited at both holders while one is stopped, the $older older: winner and conflict copy each on 2 members',
    async ({ older }) => {
      const servers = await startPlacementCluster({
        members: 3,
        // Not the subject here: no copy is made for the stopped member meanwhile.
        extraArgs: ['--rereplicate-after', '60s'],
      })
      const a = servers[0]!
      const name = 'plan.txt'
      const t0 = Math.floor(Date.now() / 1000) - 3600
      await writeWithMtime(a, name, 'the original plan\n', t0)
      const first = await waitCopies(servers, new Map([[name, sha256Of('the original plan\n')]]), {
        min: 2,
      })
      const holders = first.holders.get(name)!
      const other = servers.find((s) => s.name !== a.name && holders.includes(s.name))!

      await other.stop()
      const edits = new Map([
        [a, { content: 'edited on the creator while the other holder was down\n', mtime: 0 }],
        [other, { content: 'edited on the other holder\n', mtime: 0 }],
      ])
      const loser = older === 'creator' ? a : other
      const winner = loser === a ? other : a
      edits.get(loser)!.mtime = t0 + 60
      edits.get(winner)!.mtime = t0 + 120
      for (const [server, edit] of edits)
        await writeWithMtime(server, name, edit.content, edit.mtime)
      await other.start()

      const copy = expectedConflictName('plan', '.txt', edits.get(loser)!.mtime, loser.name)
      const expected = new Map([
        [name, sha256Of(edits.get(winner)!.content)],
        [copy, sha256Of(edits.get(loser)!.content)],
      ])
      // Settled, not passed through: both holders make the conflict copy, its own holders keep it.
      await waitSettled(servers, servers, expected, {
        min: 2,
        max: 2,
        timeoutMs: 30_000,
        what: 'the winner and the conflict copy, each on 2 disks, listed so everywhere',
      })
    },
    60_000,
  )
})
