// Review of issue 13 (server sync side): ERR_MOVED's holders come "the most recently seen first"
// (index/holder-lookup.ts, ORDER BY members.last_up DESC), and HTTP's 307 goes to the first of
// them (http/moved.ts: holders[0]). But the members table's last_up is written only when a link
// comes up (MemberRecords.up) and when it goes down (MemberRecords.seen); a member that has stayed
// up since keeps the time it came up. So a holder that went down a minute ago sorts before one
// that is up now, and keeps doing so after it is given up (its peer_files rows stay held): every
// redirect of its files sends the client to a dead member first, and a 307 only there.
import { describe, expect, it } from 'vitest'
import { openIndexDb } from '../src/server/index/database.js'
import { heldElsewhere } from '../src/server/index/holder-lookup.js'
import { MemberRecords } from '../src/server/index/member-records.js'
import { registerCleanup, tempDir } from './helpers/index.js'

const H = 'a'.repeat(64)

describe('review i13-a: the holders of ERR_MOVED, live ones first', () => {
  it('a holder up now comes before one that went down', () => {
    const stateDir = tempDir('tandem-review-i13-a-holders-')
    const db = openIndexDb(stateDir)
    registerCleanup(() => void db.close())
    // far.txt: live here, no copy on this disk; B and C announced they hold that version.
    db.prepare(
      `INSERT INTO files (name, size, mtime, hash, deleted, version, origin, seq)
       VALUES ('far.txt', 5, 1000, ?, 0, '{"B":1}', 'B', 1)`,
    ).run(H)
    for (const peer of ['B', 'C'])
      db.prepare(
        `INSERT INTO peer_files (peer, name, size, mtime, hash, deleted, held)
         VALUES (?, 'far.txt', 5, 1000, ?, 0, 1)`,
      ).run(peer, H)
    // What the engine records: both links come up at t0 (welcome: HTTP, capacity) ...
    const records = new MemberRecords(db)
    const t0 = 1_700_000_000_000
    records.up({ name: 'B', address: '127.0.0.1:9002', http: '127.0.0.1:9082', capacity: 10 }, t0)
    records.up({ name: 'C', address: '127.0.0.1:9003', http: '127.0.0.1:9083', capacity: 10 }, t0)
    // ... an hour later C is killed: its link goes down (B stays up all along).
    records.seen('C', t0 + 3_600_000)
    const holders = heldElsewhere(stateDir, 'far.txt')
    expect(holders?.map((h) => h.name)).toEqual(['B', 'C'])
  })
})
