// Review of issue 13 (reviewer B): ERR_MOVED names the holders "the most recently seen first"
// (index/holder-lookup.ts orders by members.last_up DESC). But last_up is written only when a
// link comes up (MemberRecords.up) and when it goes DOWN (MemberRecords.seen, replication.ts
// linkDown): a member that has just died gets the newest last_up of all, newer than the members
// that have been up, without a break, since they linked. So the dead holder is named FIRST — and
// stays first for as long as it is down. HTTP's 307 (http/moved.ts answerMoved) sends the client
// to holders[0] only: the browser or curl is redirected to the dead member's HTTP address, while a
// live holder is known. (The binary client tries the dead one first, then the next.)
//
// Driven with the calls the sync worker makes (MemberRecords.up at link-up, .seen at link-down)
// on a real index.db, read by the real holder lookup the operations use.
import { describe, expect, it } from 'vitest'
import { openIndexDb } from '../src/server/index/database.js'
import { heldElsewhere } from '../src/server/index/holder-lookup.js'
import { MemberRecords } from '../src/server/index/member-records.js'
import { registerCleanup, tempDir } from './helpers/index.js'

const HASH = 'a'.repeat(64)

describe('the holders of ERR_MOVED when one of them is down (review i13 B)', () => {
  it('a live holder comes before one whose link went down', () => {
    const stateDir = tempDir('tandem-review-holders-')
    const db = openIndexDb(stateDir)
    registerCleanup(() => void db.close())
    // This member (C) knows far.txt, holds no copy; A and B hold that version.
    db.prepare(
      `INSERT INTO files (name, size, mtime, hash, deleted, version, origin, seq)
       VALUES ('far.txt', 5, 1000, ?, 0, '{}', 'A', 1)`,
    ).run(HASH)
    for (const peer of ['A', 'B'])
      db.prepare(
        `INSERT INTO peer_files (peer, name, size, mtime, hash, deleted, held)
         VALUES (?, 'far.txt', 5, 1000, ?, 0, 1)`,
      ).run(peer, HASH)
    const records = new MemberRecords(db)
    // Both link up at C's start; B is killed later (its link goes down), A stays up.
    records.up(
      { name: 'A', address: '127.0.0.1:8001', http: '127.0.0.1:8081', capacity: 10 },
      1_000,
    )
    records.up(
      { name: 'B', address: '127.0.0.1:9001', http: '127.0.0.1:9081', capacity: 10 },
      1_000,
    )
    records.seen('B', 60_000)

    const holders = heldElsewhere(stateDir, 'far.txt')
    expect(holders?.map((h) => h.name).sort()).toEqual(['A', 'B'])
    // The 307's Location is holders[0]'s HTTP address: it must be the live holder.
    expect(holders?.[0]?.name, 'the first holder named (where HTTP redirects)').toBe('A')
  })
})
