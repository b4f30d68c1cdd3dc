// The change log as a person reads it (`tandem log`, the menu's history and "Watch activity"):
// one unit system (IEC), the bytes of a transfer that broke off as a share, a change on the
// server's disk in words, and an update queued behind a lock as coming from its peer.
import { describe, expect, it } from 'vitest'
import type { LogEntry } from '../../src/protocol/index.js'
import { renderLogEntry } from '../../src/client/cli/render/log.js'
import { logLine } from '../../src/client/menu/tables.js'

const at = new Date(2026, 2, 1, 14, 5, 9).getTime()

function entry(fields: Partial<LogEntry>): LogEntry {
  return {
    seq: 1,
    time: at,
    server: 'A',
    op: 'upload',
    name: 'a.txt',
    to: null,
    client: null,
    size: null,
    detail: null,
    ...fields,
  }
}

// The menu's line is coloured; the words are what matter here.
// eslint-disable-next-line no-control-regex
const plain = (text: string): string => text.replace(/\x1b\[[0-9;]*m/g, '').replace(/ +/g, ' ')

describe('change-log lines', () => {
  it('show sizes in KiB/MiB/GiB', () => {
    expect(renderLogEntry(entry({ size: 1536, client: 'alice' }))).toBe(
      '2026-03-01 14:05:09  A  upload  a.txt  1.5 KiB  by alice',
    )
  })

  it('show how far an interrupted transfer got', () => {
    const cut = entry({
      op: 'download-interrupted',
      name: 'big.iso',
      size: 10 * 1024 * 1024,
      bytes: 6_400_000,
      client: 'bob',
    })
    expect(renderLogEntry(cut)).toBe(
      '2026-03-01 14:05:09  A  download-interrupted  big.iso  stopped at 61 % (6.1 MiB of 10.0 MiB)  by bob',
    )
    expect(plain(logLine(cut))).toContain('big.iso stopped at 61 % (6.1 MiB of 10.0 MiB) by bob')
  })

  it('say what another program did on the server’s disk', () => {
    const change = entry({
      op: 'local-change',
      name: 'notes.txt',
      what: 'modified',
      bytes: 2048,
      detail: 'on this server’s disk, by another program',
    })
    expect(renderLogEntry(change)).toBe(
      '2026-03-01 14:05:09  A  local-change  notes.txt  modified, 2.0 KiB  (on this server’s disk, by another program)',
    )
    const gone = entry({ op: 'local-change', name: 'old.txt', what: 'deleted' })
    expect(renderLogEntry(gone)).toBe('2026-03-01 14:05:09  A  local-change  old.txt  deleted')
  })

  it('tell a queued update as from its peer, not by the lock holder', () => {
    const queued = entry({
      op: 'lock-queue',
      name: 'plan.txt',
      detail: 'from B (queued while alice holds the lock; 1 waiting)',
    })
    const line = renderLogEntry(queued)
    expect(line).toBe(
      '2026-03-01 14:05:09  A  lock-queue  plan.txt  from B (queued while alice holds the lock; 1 waiting)',
    )
    expect(line).not.toContain('by alice')
    expect(plain(logLine(queued))).toContain(
      'from B (queued while alice holds the lock; 1 waiting)',
    )
  })
})
