// The CLI's pure parts: the legacy argv forms, lock targets and the human renderers.
import { describe, expect, it } from 'vitest'
import { rewriteLegacyArgs } from '../../src/client/cli/argv.js'
import { humanDuration, humanSize } from '../../src/client/cli/render/format.js'
import { renderListing } from '../../src/client/cli/render/listing.js'
import {
  describeLocks,
  lockEnd,
  renderLocked,
  renderUnlocked,
} from '../../src/client/cli/render/locks.js'
import { renderStatus } from '../../src/client/cli/render/status.js'
import { renderTable } from '../../src/client/cli/render/table.js'
import { lockTarget } from '../../src/client/user-locks.js'
import type { FileRow, StatusResult, UserLock } from '../../src/protocol/index.js'

describe('rewriteLegacyArgs', () => {
  it('maps -lock -3 and -unlock -3 to commands, keeping the rest', () => {
    expect(rewriteLegacyArgs(['-lock', '-3'])).toEqual(['lock', '3'])
    expect(rewriteLegacyArgs(['--server', 'h:1', '-unlock', '-12', '--force'])).toEqual([
      '--server',
      'h:1',
      'unlock',
      '12',
      '--force',
    ])
    expect(rewriteLegacyArgs(['-lock', 'a.txt'])).toEqual(['lock', 'a.txt'])
    // --wait takes a value: the command comes after it.
    expect(rewriteLegacyArgs(['--wait', '5s', '-lock', '-2'])).toEqual([
      '--wait',
      '5s',
      'lock',
      '2',
    ])
    expect(rewriteLegacyArgs(['-lock', '3', '--ttl', '60'])).toEqual(['lock', '3', '--ttl', '60'])
    expect(rewriteLegacyArgs(['--json', '--client-id', 'me', '-unlock', '-0'])).toEqual([
      '--json',
      '--client-id',
      'me',
      'unlock',
      '0',
    ])
  })

  it('accepts a dashed index after the new command words too', () => {
    expect(rewriteLegacyArgs(['lock', '-3'])).toEqual(['lock', '3'])
    expect(rewriteLegacyArgs(['unlock', '-3', '--force'])).toEqual(['unlock', '3', '--force'])
  })

  it('looks only at the command position', () => {
    expect(rewriteLegacyArgs(['put', '-3'])).toEqual(['put', '-3'])
    expect(rewriteLegacyArgs(['create', '-lock', '--text', 'x'])).toEqual([
      'create',
      '-lock',
      '--text',
      'x',
    ])
    expect(rewriteLegacyArgs(['--client-id', '-lock', 'ls'])).toEqual([
      '--client-id',
      '-lock',
      'ls',
    ])
    expect(rewriteLegacyArgs(['--', '-lock', '-3'])).toEqual(['--', '-lock', '-3'])
    expect(rewriteLegacyArgs(['-lock'])).toEqual(['lock'])
    expect(rewriteLegacyArgs([])).toEqual([])
  })
})

describe('lockTarget', () => {
  it('sends a numeric argument as an index, with the name seen there when it is known', () => {
    expect(lockTarget('2', false, ['a', 'b', 'c'])).toEqual({ index: 2, expect: 'c' })
    expect(lockTarget('2', false, undefined)).toEqual({ index: 2 })
    expect(lockTarget('5', false, ['a'])).toEqual({ index: 5 })
    expect(lockTarget('2', true, ['a', 'b', 'c'])).toEqual({ name: '2' })
    expect(lockTarget('plan.txt', false, ['a'])).toEqual({ name: 'plan.txt' })
    expect(lockTarget('-3', false)).toEqual({ name: '-3' })
  })
})

describe('renderers', () => {
  it('writes sizes in powers of 1024', () => {
    expect([0, 1023, 1024, 1536, 10 * 1024 * 1024, 300 * 1024 ** 3].map(humanSize)).toEqual([
      '0 B',
      '1023 B',
      '1.0 KiB',
      '1.5 KiB',
      '10.0 MiB',
      '300 GiB',
    ])
    expect(humanDuration(1500)).toBe('1.5 s')
  })

  it('aligns table columns, numbers to the right', () => {
    const lines = renderTable(
      [{ header: '#', align: 'right' }, { header: 'NAME' }],
      [
        ['9', 'a'],
        ['10', 'bbb'],
      ],
    )
    expect(lines).toEqual([' #  NAME', ' 9  a', '10  bbb'])
  })

  it('lists with lock and server columns only when they say something', () => {
    const row: FileRow = {
      index: 0,
      name: 'a',
      size: 1,
      mtime: 0,
      servers: ['A'],
      locked: false,
      locks: [],
      differs: false,
    }
    expect(renderListing([row])).not.toMatch(/LOCK|SERVERS/)
    const text = renderListing([
      row,
      { ...row, index: 1, name: 'b', servers: ['A', 'B'], locked: true, locks: [lock()] },
    ])
    expect(text).toMatch(/SERVERS/)
    expect(text).toMatch(/LOCK/)
    expect(renderListing([])).toBe('no files')
  })

  it('names every lock of a row: owner@server and what is queued; 🔒 only for a person', () => {
    const locks = [lock({ queued: 3 }), lock({ owner: 'bob', server: 'B' })]
    const row: FileRow = {
      index: 0,
      name: 'plan.txt',
      size: 1,
      mtime: 0,
      servers: ['A', 'B'],
      differs: false,
      locked: true,
      locks,
    }
    const plain = renderListing([row]).split('\n')[1]!
    expect(plain).toMatch(/plan\.txt.*alice@A \(3 queued\), bob@B$/)
    expect(plain).not.toContain('🔒')
    expect(renderListing([row], { decorate: true })).toContain('🔒 alice@A (3 queued), bob@B')
    expect(describeLocks([], false, true)).toBe('')
  })

  it('says what lock and unlock did', () => {
    const now = new Date(2026, 2, 1, 12, 0, 0).getTime()
    const until = new Date(2026, 2, 1, 14, 3, 10).getTime()
    expect(renderLocked(lock({ name: 'plan.txt', expiresAt: until }), true, now)).toBe(
      '🔒 locked plan.txt at A (until 14:03:10)',
    )
    expect(renderLocked(lock({ name: 'plan.txt' }), false, now)).toBe(
      'locked plan.txt at A (until unlocked)',
    )
    const tomorrow = new Date(2026, 2, 2, 9, 0, 0).getTime()
    expect(lockEnd(tomorrow, now)).toBe('until 2026-03-02 09:00:00')
    const unlocked = { name: 'plan.txt', owner: 'alice', forced: false, applied: 3, conflicts: 1 }
    expect(renderUnlocked(unlocked, 'A')).toBe(
      'unlocked plan.txt at A: 3 queued updates applied (1 conflict copy)',
    )
    expect(renderUnlocked({ ...unlocked, applied: 0, conflicts: 0, forced: true }, 'A')).toBe(
      "unlocked plan.txt at A (forced; it was alice's): no queued updates",
    )
  })

  it('status lists every user lock, and the files in use', () => {
    const text = renderStatus(
      statusWith([lock({ name: 'plan.txt', queued: 2 }), lock({ name: 'x', server: 'B' })], 1),
    )
    const lines = text.split('\n')
    const at = lines.findIndex((line) => line.startsWith('locks    2'))
    expect(at).toBeGreaterThan(0)
    expect(lines[at + 1]).toMatch(/^\s+NAME\s+OWNER\s+SERVER\s+SINCE\s+EXPIRES\s+QUEUED$/)
    expect(lines[at + 2]).toMatch(/^\s+plan\.txt\s+alice\s+A\s+\S+\s+when unlocked\s+2$/)
    expect(lines[at + 3]).toMatch(/^\s+x\s+alice\s+B\s/)
    expect(text).toMatch(/^busy {5}1 file in use/m)
    expect(renderStatus(statusWith([], 0))).toMatch(/^locks {4}none$/m)
    expect(renderStatus(statusWith([], 0))).not.toMatch(/^busy/m)
  })
})

function lock(fields: Partial<UserLock> = {}): UserLock {
  return {
    name: 'a',
    server: 'A',
    owner: 'alice',
    since: Date.now(),
    expiresAt: null,
    queued: 0,
    ...fields,
  }
}

function statusWith(locks: UserLock[], busy: number): StatusResult {
  return {
    server: {
      name: 'A',
      version: '0.1.0',
      protocol: 1,
      pid: 1,
      startedAt: 0,
      uptimeMs: 1000,
      root: '/data',
      host: '127.0.0.1',
      port: 8001,
    },
    clients: { connected: 0, max: 9, list: [] },
    peers: [],
    members: [],
    sync: { state: 'running' },
    locks,
    pathLocks: Array.from({ length: busy }, (_, i) => ({
      name: `f${i}`,
      readers: 1,
      writers: 0,
      waiting: 0,
    })),
  }
}
