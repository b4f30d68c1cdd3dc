// A peer's entry carries the request that made it (its rid and answer), and a member answers a
// replay of that rid with it. An entry's request must be about that entry: a peer's entry for
// 'junk.txt' whose request names another client's append to 'important.log' must not make this
// server answer that client's append as applied (and drop it) when the peer never wrote the file.
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { TestClient, waitFor } from '../helpers/index.js'
import { followedFakePeer, serverFollowing, type FollowedFakePeer } from '../helpers/fake-peer.js'

/** F announces this entry, welcomes its index channel, never its content channel. */
const fakePeer = (): Promise<FollowedFakePeer> =>
  followedFakePeer([
    {
      name: 'junk.txt',
      size: 5,
      mtime: Date.now(),
      hash: 'a'.repeat(64),
      deleted: false,
      version: { F: 1 },
      origin: 'F',
      seq: 1,
      // Another client's request, on another name than the entry's.
      request: {
        rid: 'victim:1',
        op: 'append',
        target: 'important.log',
        result: {
          result: { name: 'important.log', size: 1, mtime: 1, sha256: 'b'.repeat(64) },
          created: false,
        },
        at: Date.now(),
      },
    },
  ])

describe('review: a peer entry whose request names another file', () => {
  it('does not make this server answer that rid as applied', async () => {
    const f = await fakePeer()
    const server = await serverFollowing(f)
    writeFileSync(path.join(server.root, 'important.log'), 'start\n')
    await server.start()
    // The entry has arrived (A asks for its content).
    await waitFor(() => f.contentOpened, { timeoutMs: 20_000, what: 'A to ask F for content' })
    const client = await TestClient.connect(server.port, { clientId: 'victim' })
    try {
      const reply = await client.call(
        'append',
        { name: 'important.log', rid: 'victim:1' },
        Buffer.from('mine\n'),
      )
      expect(reply.ok, JSON.stringify(reply)).toBe(true)
      expect(readFileSync(path.join(server.root, 'important.log'), 'utf8')).toBe('start\nmine\n')
    } finally {
      await client.close()
    }
  })
})
