// Every human renderer of the client shows what a server sends (names, owners, server names,
// client ids, details) escaped: a hostile or careless server cannot drive the terminal or add a
// line. The renderers are pure; the CLI and the menu over real servers are in
// test/integration/control-names.test.ts.
import { describe, expect, it } from 'vitest'
import { renderListing } from '../../src/client/cli/render/listing.js'
import { renderLocked, renderUnlocked } from '../../src/client/cli/render/locks.js'
import { renderLog, renderLogEntry } from '../../src/client/cli/render/log.js'
import { renderStatus } from '../../src/client/cli/render/status.js'
import { listingTable, logLine } from '../../src/client/menu/tables.js'
import type { FileRow, LogEntry, StatusResult, UserLock } from '../../src/protocol/index.js'

const ESC = 'x\x1b[31mRED\x1b[0m'
const ESC_SHOWN = 'x\\x1b[31mRED\\x1b[0m'
const NL = 'disk\nnewline'
const NL_SHOWN = 'disk\\nnewline'
/** Anything a terminal acts on: C0 but the newline between lines, DEL, C1, bidi overrides. */
// eslint-disable-next-line no-control-regex
const RAW = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/

const lock: UserLock = {
  name: NL,
  server: 'A\u202e',
  owner: 'eve\x1b]0;pwned\x07',
  since: 0,
  expiresAt: null,
  queued: 1,
}

function row(index: number, name: string, locks: UserLock[] = []): FileRow {
  return {
    index,
    name,
    size: 1,
    mtime: 0,
    servers: ['A', 'B\x1b'],
    locked: locks.length > 0,
    locks,
    differs: false,
  }
}

function entry(fields: Partial<LogEntry>): LogEntry {
  const base = { seq: 1, time: 0, server: 'B', op: 'sync-pull', name: ESC, to: null }
  return { ...base, client: null, size: 3, detail: null, ...fields }
}

describe('the client renderers escape what the server sends', () => {
  it('ls: one row per file, names, servers and lock holders escaped', () => {
    const text = renderListing([row(0, ESC), row(1, NL, [lock])], { decorate: true })
    expect(text).not.toMatch(RAW)
    const lines = text.split('\n')
    expect(lines).toHaveLength(4) // header, two rows, total
    expect(lines[1]).toContain(ESC_SHOWN)
    expect(lines[2]).toContain(NL_SHOWN)
    expect(lines[2]).toContain('eve\\x1b]0;pwned\\x07@A\\u202e (1 queued)')
    expect(lines[1]).toContain('A,B\\x1b')
  })

  it('log and log --follow lines', () => {
    const rename = entry({ op: 'rename', name: NL, to: ESC, client: 'c\r', detail: 'from\u2066B' })
    const text = renderLog([entry({}), rename])
    expect(text).not.toMatch(RAW)
    expect(text.split('\n')).toHaveLength(2)
    expect(renderLogEntry(rename)).toContain(`${NL_SHOWN} → ${ESC_SHOWN}`)
    expect(renderLogEntry(rename)).toContain('by c\\r')
    expect(renderLogEntry(rename)).toContain('(from\\u2066B)')
  })

  it('status: locks, clients, peers and the sync reason', () => {
    const text = renderStatus(statusWith())
    expect(text).not.toMatch(RAW)
    expect(text).toContain(NL_SHOWN)
    expect(text).toContain('bad\\nclient from 127.0.0.1')
    expect(text).toContain('P\\x1b (127.0.0.1:1)')
    expect(text).toContain('M\\x1b (127.0.0.1:1\\n) refused')
    expect(text).toContain(`refused: ${ESC_SHOWN}`)
  })

  it('lock and unlock results', () => {
    const lines = [
      renderLocked({ ...lock, name: ESC }, true),
      renderUnlocked(
        { name: NL, owner: lock.owner, forced: true, applied: 0, conflicts: 0 },
        'A\n',
      ),
    ]
    expect(lines.join('\n')).not.toMatch(RAW)
    expect(lines[0]).toContain(`locked ${ESC_SHOWN} at A\\u202e`)
    expect(lines[1]).toContain(
      `unlocked ${NL_SHOWN} at A\\n (forced; it was eve\\x1b]0;pwned\\x07's)`,
    )
  })

  it("the menu's listing table and log lines", () => {
    const table = listingTable([row(0, ESC), row(1, NL, [lock])])
    expect(table).not.toMatch(RAW)
    expect(table.split('\n')).toHaveLength(4)
    expect(table).toContain(ESC_SHOWN)
    const line = logLine(entry({ name: NL, client: 'c\x1b', server: 'B\n' }), 30)
    expect(line).not.toMatch(RAW)
    expect(line).not.toContain('\n')
    expect(line).toContain(NL_SHOWN)
  })
})

function statusWith(): StatusResult {
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
    clients: {
      connected: 1,
      max: 9,
      list: [{ clientId: 'bad\nclient', sessionId: 's1', address: '127.0.0.1', connectedAt: 0 }],
    },
    peers: [
      {
        address: '127.0.0.1:1',
        name: 'P\x1b',
        state: 'down',
        up: false,
        connected: false,
        lastHeard: null,
        behind: null,
        backlog: null,
        oldestWaitingMs: null,
        clockSkewMs: null,
      },
    ],
    members: [
      {
        name: 'M\x1b',
        addresses: ['127.0.0.1:1\n'],
        state: 'refused',
        source: 'discovered',
        clients: 2,
        lastContact: 0,
        backlog: null,
        behind: null,
        reason: ESC,
      },
    ],
    sync: {
      state: 'refused',
      reason: ESC,
      setAside: [
        {
          name: 'aside\x1b[31m',
          peer: 'P\n',
          code: 'ERR_NO_SPACE',
          reason: `no space for ${ESC}`,
          since: 0,
          attempts: 1,
          nextRetryAt: 0,
          neededBytes: 1,
        },
      ],
    },
    locks: [lock],
    pathLocks: [],
  }
}
