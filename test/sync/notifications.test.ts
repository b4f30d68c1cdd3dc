// `tandem log --follow` on B reports, in real time, the sync actions caused by changes on A,
// naming the file (and the peer).
import fs from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { startCluster, TestClient, waitFor } from '../helpers/index.js'

describe('sync notifications', () => {
  it('log --follow on B receives sync-pull, sync-rename and sync-delete for changes on A', async () => {
    const [a, b] = await startCluster(2)
    const follow = b.followLog()
    // The follower is live once it shows a change made through B after it started.
    const client = await TestClient.connect(b.port, { clientId: 'marker' })
    expect((await client.upload('marker.txt', Buffer.from('marker\n'))).ok).toBe(true)
    await client.close()
    await waitFor(() => follow.entries().some((e) => e.name === 'marker.txt'), {
      what: 'the follower to print the marker upload',
    })

    const find = (op: string, name: string) =>
      follow.entries().find((e) => e.op === op && e.name === name)
    await a.write('from-a.txt', 'made on A\n')
    const pull = await waitFor(() => find('sync-pull', 'from-a.txt'), {
      timeoutMs: 5_000,
      what: 'a sync-pull entry for from-a.txt',
    })
    expect(pull).toMatchObject({ server: 'B', name: 'from-a.txt' })
    expect(String(pull.detail)).toContain('A')

    await fs.rename(a.file('from-a.txt'), a.file('renamed.txt'))
    const rename = await waitFor(() => find('sync-rename', 'from-a.txt'), {
      timeoutMs: 5_000,
      what: 'a sync-rename entry for from-a.txt',
    })
    expect(rename.to).toBe('renamed.txt')

    await fs.rm(a.file('renamed.txt'))
    await waitFor(() => find('sync-delete', 'renamed.txt'), {
      timeoutMs: 5_000,
      what: 'a sync-delete entry for renamed.txt',
    })
    follow.stop()
  }, 30_000)
})
