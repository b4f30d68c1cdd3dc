// The server's console escapes every line it prints: names from the disk, client ids and peers'
// strings cannot drive the terminal or split a line, whoever built the message.
import { describe, expect, it } from 'vitest'
import {
  columns,
  describeFailure,
  localChangeLine,
  lockLine,
  ServerConsole,
  syncLine,
  WIDTH,
} from '../../src/server/console.js'
import { lockEntry } from '../../src/server/sync/sync-host.js'

function capture(): { console: ServerConsole; lines: () => string[] } {
  let text = ''
  const console = new ServerConsole('A', (chunk) => (text += chunk))
  return {
    console,
    lines: () => {
      console.flush()
      return text.split('\n').slice(0, -1)
    },
  }
}

describe('the server console', () => {
  it('escapes names, client ids and peer names, one line each', () => {
    const { console, lines } = capture()
    console.warn("not mirrored: 'x\x1b[31mRED\x1b[0m' is not a name tandem can serve")
    console.admitted({ sessionId: '1', clientId: 'eve\nA  ● forged', remoteAddress: '1' }, 1, 9)
    console.info(syncLine({ op: 'sync-pull', name: 'a\u202etxt', peer: 'B\x07', size: 3 }))
    const shown = lines()
    expect(shown).toHaveLength(3)
    // eslint-disable-next-line no-control-regex
    expect(shown.join('\n')).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/)
    expect(shown[0]).toContain("'x\\x1b[31mRED\\x1b[0m'")
    expect(shown[1]).toContain('eve\\nA  ● forged connected')
    expect(shown[2]).toContain('pulled a\\u202etxt from B\\x07')
  })

  it('prints a failure with its stack frames on lines of their own, its message escaped', () => {
    const { console, lines } = capture()
    const err = new Error("cannot open 'disk\nnewline'")
    console.failed('the sync worker failed', err)
    const shown = lines()
    expect(shown[0]).toMatch(/⚠ the sync worker failed: Error: cannot open 'disk\\nnewline'$/)
    expect(shown.length).toBeGreaterThan(1)
    expect(shown.slice(1).every((line) => /^\s+at /.test(line))).toBe(true)
    expect(describeFailure(err)[0]).toBe("Error: cannot open 'disk\\nnewline'")
  })

  it('prints a stack frame whole, however long its path', () => {
    const { console, lines } = capture()
    const err = new Error('boom')
    const frame = `    at work (file:///${'deep/'.repeat(30)}module.js:10:5)`
    err.stack = `Error: boom\n${frame}`
    console.failed('it failed', err)
    expect(lines().slice(1)).toEqual([frame])
  })

  it('says sizes in IEC units, as the client does', () => {
    const { console, lines } = capture()
    console.operation({
      op: 'upload',
      name: 'a.bin',
      to: null,
      client: 'alice',
      size: 1536,
      detail: null,
    })
    console.info(syncLine({ op: 'sync-pull', name: 'b.bin', peer: 'B', size: 5 * 1024 * 1024 }))
    console.info(localChangeLine({ what: 'modified', name: 'c.txt', bytes: 12 }))
    expect(lines().map((l) => l.slice(9))).toEqual([
      'A  alice ⇡ uploaded a.bin (1.5 KiB)',
      'A  ⇣ pulled b.bin from B (5.0 MiB)',
      'A  ◆ on disk here: modified c.txt (12 B)',
    ])
  })

  it('tells a read, a download and a transfer that broke off with the share it moved', () => {
    const { console, lines } = capture()
    const base = { to: null, client: 'alice', detail: null }
    console.operation({ ...base, op: 'read', name: 'n.txt', size: 6 })
    console.operation({ ...base, op: 'download', name: 'n.txt', size: 6 })
    console.operation({
      ...base,
      op: 'download-interrupted',
      name: 'big',
      size: 100 * 1024 * 1024,
      bytes: 61 * 1024 * 1024,
    })
    console.operation({
      ...base,
      op: 'upload-interrupted',
      name: 'up',
      size: null,
      bytes: 3 * 1024 * 1024,
    })
    expect(lines().map((l) => l.slice(9))).toEqual([
      'A  alice ⇣ read n.txt (6 B)',
      'A  alice ⇣ downloaded n.txt (6 B)',
      'A  ⚠ alice stopped downloading big at 61 % (61.0 MiB of 100 MiB)',
      'A  ⚠ alice stopped uploading up at 3.0 MiB; nothing stored',
    ])
  })

  it('fits every line in 100 columns: long names shortened in the middle, the facts kept', () => {
    const { console, lines } = capture()
    const long = `reports/${'quarterly-'.repeat(12)}summary.txt`
    console.operation({
      op: 'upload',
      name: long,
      to: `${long}.bak`,
      client: 'a-client-with-a-long-id',
      size: 123_456_789,
      detail: null,
    })
    console.info(
      syncLine({
        op: 'sync-conflict',
        name: long,
        to: `${long}.sync-conflict-20260301-101010-B.txt`,
        peer: 'B',
      }),
    )
    console.info(lockLine({ op: 'lock-queue', name: long, owner: 'alice', peer: 'B', queued: 3 }))
    console.warn(
      `sync refused (ERR_SYNC_REFUSED): ${'the data directory looks emptied; '.repeat(5)}restore it`,
    )
    const shown = lines()
    for (const line of shown) expect(columns(line)).toBeLessThanOrEqual(WIDTH)
    expect(shown[0]).toMatch(
      /⇡ uploaded reports\/.*….*\.txt → reports\/.*….*\.txt\.bak \(118 MiB\)$/,
    )
    expect(shown[1]).toContain('⚠ conflict on reports/')
    expect(shown[1]).toMatch(/-B\.txt$/)
    expect(shown[2]).toMatch(/from B, queued while alice holds the lock \(3 waiting\)$/)
    // A long warning is not cut: it goes on over indented lines, its code on the first.
    const warning = shown.slice(3)
    expect(warning.length).toBeGreaterThan(1)
    expect(warning[0]).toContain('ERR_SYNC_REFUSED')
    expect(warning.slice(1).every((l) => l.startsWith('        '))).toBe(true)
    expect(warning.join(' ').replace(/\s+/g, ' ')).toContain('restore it')
  })

  it('keeps names whole in a message too long for one line anyway, carried over instead', () => {
    const { console, lines } = capture()
    const detail = `'blocked/inner.txt' cannot be made: a part of its path is a file, not a folder (ERR_EXISTS)`
    console.info(syncLine({ op: 'sync-blocked', name: 'blocked/inner.txt', peer: 'A', detail }))
    const shown = lines()
    expect(shown.length).toBe(2)
    for (const line of shown) expect(columns(line)).toBeLessThanOrEqual(WIDTH)
    expect(shown[0]).toContain('set aside blocked/inner.txt from A')
  })

  it('counts wide characters as two columns', () => {
    expect(columns('🔒 a')).toBe(4)
    expect(columns('日本')).toBe(4)
    expect(columns('e\u0301')).toBe(1)
  })
})

describe('lock events in the change log', () => {
  it('a queued or applied update is from its peer, never "by" the lock holder', () => {
    expect(
      lockEntry({
        op: 'lock-queue',
        name: 'plan.txt',
        owner: 'alice',
        peer: 'B',
        queued: 2,
        detail: '',
      }),
    ).toEqual({
      op: 'lock-queue',
      name: 'plan.txt',
      client: null,
      detail: 'from B (queued while alice holds the lock; 2 waiting)',
    })
    expect(
      lockEntry({
        op: 'lock-apply',
        name: 'plan.txt',
        owner: 'alice',
        peer: 'B',
        queued: 0,
        detail: 'its new version written here',
      }),
    ).toMatchObject({
      client: null,
      detail: 'from B (its new version written here; 0 waiting)',
    })
    expect(
      lockEntry({ op: 'lock', name: 'plan.txt', owner: 'alice', queued: 0, detail: 'for 60 s' }),
    ).toEqual({
      op: 'lock',
      name: 'plan.txt',
      client: 'alice',
      detail: 'for 60 s',
    })
  })
})
