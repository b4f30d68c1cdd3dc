// A real binary Session driven in-process through its MessagePort (test/helpers/session-harness.ts),
// answered by an OpsHarness as the main thread would: no socket, no worker pool.
import { describe, expect, it } from 'vitest'
import {
  FRAME_HEADER_LENGTH,
  encodeControl,
  encodeData,
  type LogEntry,
} from '../../src/protocol/index.js'
import { createOpsHarness, runBody, sha256Hex } from '../helpers/ops-harness.js'
import { injectSession } from '../helpers/session-harness.js'

describe('a session driven by inject', () => {
  it('answers pipelined requests in order', async () => {
    const h = createOpsHarness()
    h.writeFile('a.txt', 'alpha')
    const s = injectSession(h)
    const answers = await Promise.all([
      s.request({ op: 'list' }),
      s.request({ op: 'ping' }),
      s.request({ op: 'stat', name: 'missing.txt' }),
      s.request({ op: 'stat', name: 'a.txt' }),
      s.request({ op: 'status' }),
      s.request({ op: 'log', limit: 5 }),
    ])
    expect(answers.map((r) => [r.id, r.ok])).toEqual([
      [1, true],
      [2, true],
      [3, false],
      [4, true],
      [5, true],
      [6, true],
    ])
    expect(s.messages.map((m) => (m as { id?: number }).id)).toEqual([1, 2, 3, 4, 5, 6])
    expect(answers[0]).toMatchObject({ result: { files: [{ name: 'a.txt', servers: ['A'] }] } })
    expect(answers[2]).toMatchObject({ ok: false, error: { code: 'ERR_NOT_FOUND' } })
    expect(answers[3]).toMatchObject({ result: { name: 'a.txt', size: 5, index: 0 } })
    expect(answers[4]).toMatchObject({ result: { server: { name: 'A' } } })
    expect(answers[5]).toMatchObject({ result: { entries: [] } })
  })

  it('takes a pipelined upload then append to the same file, and downloads it', async () => {
    const h = createOpsHarness()
    const s = injectSession(h, { clientId: 'bob' })
    const big = Buffer.alloc(600_000, 'x')
    const [upload, append, other] = await Promise.all([
      s.upload('p.txt', 'hello '),
      s.upload('p.txt', 'world', { op: 'append' }),
      s.upload('big.bin', big, { fields: { size: big.length } }),
    ])
    expect(upload).toMatchObject({ ok: true, result: { name: 'p.txt', size: 6 } })
    expect(append).toMatchObject({ ok: true, result: { name: 'p.txt', size: 11 } })
    expect(other).toMatchObject({ ok: true, result: { size: big.length, sha256: sha256Hex(big) } })
    expect(h.readFile('p.txt').toString()).toBe('hello world')
    expect((await s.download('p.txt')).toString()).toBe('hello world')
    expect((await s.download('big.bin')).equals(big)).toBe(true)
    // Commits of different names overlap; on one name they keep their order.
    const logged = h.logEntries().map((e) => [e.op, e.name, e.client])
    expect(logged.filter(([, name]) => name === 'p.txt')).toEqual([
      ['upload', 'p.txt', 'bob'],
      ['append', 'p.txt', 'bob'],
      ['download', 'p.txt', 'bob'], // a download is in the change log too
    ])
    expect(logged).toContainEqual(['upload', 'big.bin', 'bob'])
    expect(h.publications.map((p) => p.name).sort()).toEqual(['big.bin', 'p.txt'])
    await s.close()
    // Told after the body's last frame: in by the time the session has ended.
    expect(h.consoleLines.filter((l) => l.op === 'download').map((l) => l.size)).toEqual([
      11,
      big.length,
    ])
    expect(h.locks.size).toBe(0)
  })

  it('reads frames split at any byte (tiny input buffers)', async () => {
    const h = createOpsHarness()
    const s = injectSession(h, { chunkSize: 7 })
    expect(await s.upload('split.txt', 'split across many chunks')).toMatchObject({ ok: true })
    expect(await s.request({ op: 'stat', name: 'split.txt' })).toMatchObject({
      ok: true,
      result: { size: 24 },
    })
    expect((await s.download('split.txt')).toString()).toBe('split across many chunks')
  })

  it('answers a bad request with its id and goes on', async () => {
    const h = createOpsHarness()
    const s = injectSession(h)
    const [bad, unknown, refusedBody, wrongHash, ping] = await Promise.all([
      s.request({ id: 41, op: 'stat' }), // no name
      s.request({ id: 42, op: 'frobnicate' }),
      // A refused body operation: its body is read and dropped, framing stays in step.
      s.upload('dropped.txt', 'body of a refused request', { fields: { id: 43, bogus: 1 } }),
      s.upload('hash.txt', 'content', { fields: { id: 44 }, sha256: Buffer.alloc(32) }),
      s.request({ id: 45, op: 'ping' }),
    ])
    expect(bad).toMatchObject({ id: 41, ok: false, error: { code: 'ERR_BAD_REQUEST' } })
    expect(unknown).toMatchObject({ id: 42, ok: false, error: { code: 'ERR_UNKNOWN_OPERATION' } })
    expect(refusedBody).toMatchObject({ id: 43, ok: false, error: { code: 'ERR_BAD_REQUEST' } })
    expect(wrongHash).toMatchObject({ id: 44, ok: false, error: { code: 'ERR_INTEGRITY' } })
    expect(ping).toMatchObject({ id: 45, ok: true })
    expect(h.exists('dropped.txt')).toBe(false)
    expect(h.exists('hash.txt')).toBe(false)
    expect(s.ended).toBeUndefined()
  })

  it('a bad frame closes the connection with ERR_BAD_FRAME, after answering what came before', async () => {
    const h = createOpsHarness()
    const s = injectSession(h)
    const ping = s.request({ op: 'ping' })
    const badHeader = Buffer.alloc(FRAME_HEADER_LENGTH)
    badHeader.writeUInt32BE(1, 0)
    badHeader.writeUInt8(9, 4) // no such frame type
    await s.raw(badHeader)
    expect(await ping).toMatchObject({ ok: true })
    const end = await s.done
    expect(end.error).toMatchObject({ code: 'ERR_BAD_FRAME' })
    expect(end.reason).toMatch(/^ERR_BAD_FRAME/)
    expect(s.messages.at(-1)).toMatchObject({ type: 'error', error: { code: 'ERR_BAD_FRAME' } })
    await expect(s.request({ op: 'ping' })).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED' })
  })

  it('a data frame outside a body, or malformed JSON, is ERR_BAD_FRAME too', async () => {
    const h = createOpsHarness()
    const stray = injectSession(h)
    await stray.raw(Buffer.concat(encodeData(Buffer.from('stray'))))
    expect((await stray.done).error).toMatchObject({ code: 'ERR_BAD_FRAME' })
    const json = injectSession(h)
    const frame = encodeControl({ id: 1, op: 'ping' })
    frame.write('}', FRAME_HEADER_LENGTH) // the payload no longer parses
    await json.raw(frame)
    expect((await json.done).error).toMatchObject({ code: 'ERR_BAD_FRAME' })
  })

  it('refuses writes under another client’s user lock where the main thread checks', async () => {
    const h = createOpsHarness()
    h.writeFile('held.txt', 'held')
    const bob = injectSession(h, { clientId: 'bob' })
    expect(await bob.request({ op: 'lock', name: 'held.txt' })).toMatchObject({
      ok: true,
      result: { name: 'held.txt', owner: 'bob', server: 'A' },
    })
    const alice = injectSession(h, { clientId: 'alice' })
    expect(await alice.upload('held.txt', 'alice was here')).toMatchObject({
      ok: false,
      error: { code: 'ERR_LOCKED' },
    })
    expect(await alice.request({ op: 'delete', name: 'held.txt' })).toMatchObject({
      error: { code: 'ERR_LOCKED' },
    })
    expect(await alice.request({ op: 'unlock', name: 'held.txt' })).toMatchObject({
      error: { code: 'ERR_NOT_OWNER' },
    })
    expect(await bob.upload('held.txt', 'bob’s edit', { op: 'write' })).toMatchObject({ ok: true })
    expect(await bob.request({ op: 'unlock', name: 'held.txt' })).toMatchObject({
      ok: true,
      result: { owner: 'bob', forced: false },
    })
    expect(await alice.request({ op: 'delete', name: 'held.txt' })).toMatchObject({ ok: true })
    expect(h.userLockRequests.map((r) => [r.op, r.client])).toEqual([
      ['lock', 'bob'],
      ['unlock', 'alice'],
      ['unlock', 'bob'],
    ])
  })

  it('follows the change log: new entries arrive as events', async () => {
    const h = createOpsHarness()
    const s = injectSession(h)
    await runBody(h.context('carol'), { op: 'upload', name: 'before.txt' }, 'b')
    const answer = await s.request({ op: 'log', follow: true })
    expect(answer).toMatchObject({ ok: true, result: { entries: [{ name: 'before.txt' }] } })
    await runBody(h.context('carol'), { op: 'upload', name: 'after.txt' }, 'a')
    await s.waitFor((m) => m.type === 'event')
    expect(s.events.map((e) => [e.op, e.name, e.client])).toEqual([
      ['upload', 'after.txt', 'carol'],
    ])
  })

  it('follows from the history on: an entry recorded while the history is read is sent once', async () => {
    const h = createOpsHarness()
    const s = injectSession(h)
    const query = h.changeLog.query.bind(h.changeLog)
    // The main thread answers the history, with one entry recorded just before the read (so it
    // is in the history too) and one just after it, before the session could ask again.
    h.changeLog.query = (q) => {
      h.changeLog.append({ op: 'upload', name: 'in-history.txt' })
      const entries = query(q)
      h.changeLog.append({ op: 'upload', name: 'after-read.txt' })
      h.changeLog.flush()
      return entries
    }
    const answer = await s.request({ op: 'log', follow: true })
    expect(answer).toMatchObject({ ok: true, result: { entries: [{ name: 'in-history.txt' }] } })
    h.changeLog.query = query
    await runBody(h.context('carol'), { op: 'upload', name: 'later.txt' }, 'l')
    await s.waitFor(
      (m) => m.type === 'event' && (m as { event: LogEntry }).event.name === 'later.txt',
    )
    expect(s.events.map((e) => e.name)).toEqual(['after-read.txt', 'later.txt'])
  })

  it('ends when the client closes, releasing what it held', async () => {
    const h = createOpsHarness()
    const s = injectSession(h)
    expect(await s.request({ op: 'ping' })).toMatchObject({ ok: true })
    const end = await s.close()
    expect(end).toEqual({ error: undefined, reason: 'session ended' })
    expect(h.locks.size).toBe(0)
  })
})
