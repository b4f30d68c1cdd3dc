/**
 * Review (fixed: a retry's source carries the peer's generation; reports of an older one are
 * ignored). Before: a retry of a set-aside entry that is in flight when the peer starts a new epoch must not
 * bring the old epoch's row back: its seq (old numbering) then hides every entry of the new epoch
 * for that name ("a newer one already waits"), and the new version is skipped for good.
 */
import { describe, expect, it } from 'vitest'
import { SetAside } from '../../src/server/sync/set-aside.js'
import type { SetAsideStore } from '../../src/server/sync/set-aside-store.js'
import type { FileEntry } from '../../src/server/index/entry.js'
import type { PeerSource } from '../../src/server/sync/peer-source.js'
import { TandemError } from '../../src/protocol/index.js'

/** The link's own source (no generation), or a retry's (with the generation it started in). */
function source(generation?: number): PeerSource {
  return {
    name: 'B',
    ...(generation === undefined ? {} : { generation }),
    fetch: () => Promise.reject(new Error('no fetch here')),
  }
}

function entry(seq: number, hash: string): FileEntry {
  return {
    name: 'a.txt',
    size: 10,
    mtime: 1,
    hash,
    deleted: false,
    version: { B: seq },
    origin: 'B',
    seq,
    renamedFrom: null,
  } as unknown as FileEntry
}

describe('set-aside across a new epoch with a retry in flight', () => {
  it('keeps the new epoch entry', async () => {
    const rows = new Map<string, unknown>()
    const store = {
      all: () => [],
      put: (row: { peer: string; entry: FileEntry }) => rows.set(row.peer + row.entry.name, row),
      remove: (peer: string, name: string) => rows.delete(peer + name),
    } as unknown as SetAsideStore
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    let inFlight!: () => void
    const started = new Promise<void>((r) => (inFlight = r))
    let now = 0
    const aside: SetAside = new SetAside({
      store,
      now: () => now,
      freeBytes: async () => 0,
      report: () => undefined,
      retry: async (_peer, entries, generation) => {
        inFlight()
        await gate
        // the applier's per-entry failure path: sink.add for the old entry
        for (const e of entries)
          aside.add(source(generation), e, new TandemError('ERR_NO_SPACE', 'full'))
      },
    })
    aside.start()
    aside.add(source(), entry(500, 'old'), new TandemError('ERR_NO_SPACE', 'full'))
    now = 10 * 60_000
    aside.nudge(['a.txt'])
    await started
    aside.forgetPeer('B') // the link reconnected: B's index is new
    release()
    await new Promise((r) => setTimeout(r, 20))
    aside.add(source(), entry(3, 'new'), new TandemError('ERR_NO_SPACE', 'full'))
    aside.stop()
    const listed = aside.list()
    expect(listed).toHaveLength(1)
    expect(rows.size).toBe(1)
    expect(([...rows.values()][0] as { entry: FileEntry }).entry.hash).toBe('new')
  })
})
