// The event stream, GET /api/v1/events: change-log events arrive live as text/event-stream; a
// reconnect with Last-Event-ID (or ?since=) replays exactly the events missed, then goes on live.
import { beforeAll, describe, expect, it } from 'vitest'
import {
  expectJson,
  get,
  httpRequest,
  openEvents,
  startServer,
  type ServerHandle,
} from '../helpers/index.js'

interface Change {
  seq: number
  op: string
  name: string | null
  to: string | null
  client: string | null
  server: string
}

describe('HTTP: the event stream', () => {
  let server: ServerHandle
  let base: string
  beforeAll(async () => {
    server = await startServer({ http: true })
    base = server.httpUrl!
  })
  const act = (path: string, method: string, body?: string) =>
    httpRequest(base, path, { method, clientId: 'actor', ...(body === undefined ? {} : { body }) })
  const logSince = async (seq: number) =>
    expectJson<{ entries: Change[] }>(await get(base, `/api/v1/log?since=${seq}&limit=10000`))
      .entries

  it('events arrive for changes, as `id`, `event: change` and the entry as data', async () => {
    await act('/upload?name=before.txt', 'POST', 'before the stream')
    const latest = (await logSince(0)).at(-1)!.seq
    const stream = await openEvents(base, { clientId: 'watcher-1' })
    expect(stream.status).toBe(200)
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/)
    // Without Last-Event-ID or since: new events only, so nothing yet of what came before.
    await act('/upload?name=ev.txt', 'POST', 'one')
    await act('/append/ev.txt', 'POST', 'two')
    await act('/rename/ev.txt/ev2.txt', 'PUT')
    const changes = await stream.waitFor(
      () => {
        const mine = stream.changes().filter((c) => c.client === 'actor') as unknown as Change[]
        return mine.length >= 3 && mine
      },
      10_000,
      'three change events',
    )
    expect(stream.changes().every((c) => (c.seq as number) > latest)).toBe(true)
    expect(changes.map((c) => [c.op, c.name, c.to])).toEqual([
      ['upload', 'ev.txt', null],
      ['append', 'ev.txt', null],
      ['rename', 'ev.txt', 'ev2.txt'],
    ])
    for (const event of stream.events.filter((e) => e.event === 'change')) {
      const data = JSON.parse(event.data) as Change
      expect(event.id).toBe(String(data.seq))
      expect(data.server).toBe('A')
    }
    // What the stream sent is what the log holds.
    const first = changes[0]!.seq
    const logged = (await logSince(first - 1)).filter((e) => e.client === 'actor')
    expect(logged.slice(0, 3).map((e) => e.seq)).toEqual(changes.map((c) => c.seq))
    stream.close()
  })

  it('a reconnect with Last-Event-ID replays exactly the missed events, then live ones', async () => {
    const stream = await openEvents(base, { clientId: 'watcher-2' })
    await act('/upload?name=re.txt', 'POST', 'base')
    const seen = await stream.waitFor(
      () => {
        const hit = stream.changes().find((c) => c.name === 're.txt' && c.op === 'upload')
        return hit && (hit.seq as number)
      },
      10_000,
      'the upload event',
    )
    stream.close()

    // Missed while disconnected:
    await act('/write/re.txt', 'POST', 'written')
    await act('/append/re.txt', 'POST', '+appended')
    await act('/upload?name=re-other.txt', 'POST', 'other')
    await act('/delete/re-other.txt', 'DELETE')
    const missed = await logSince(seen)
    expect(missed.length).toBeGreaterThanOrEqual(4)

    const again = await openEvents(base, { clientId: 'watcher-2', lastEventId: seen })
    expect(again.status).toBe(200)
    await again.waitFor(
      () => again.changes().length >= missed.length,
      10_000,
      `${missed.length} replayed events`,
    )
    expect(again.changes()).toEqual(missed)
    // Then live: one more change arrives after the replay, and nothing is sent twice.
    await act('/append/re.txt', 'POST', '+live')
    await again.waitFor(
      () =>
        again.changes().some((c) => c.op === 'append' && (c.seq as number) > missed.at(-1)!.seq),
      10_000,
      'the live event after the replay',
    )
    const seqs = again.changes().map((c) => c.seq as number)
    expect(new Set(seqs).size).toBe(seqs.length)
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
    expect(again.changes().slice(0, missed.length)).toEqual(missed)
    again.close()
  })

  it('?since=SEQ replays the same way', async () => {
    await act('/upload?name=since.txt', 'POST', 's')
    const all = await logSince(0)
    const from = all.at(-1)!.seq
    await act('/append/since.txt', 'POST', '1')
    await act('/append/since.txt', 'POST', '2')
    const missed = await logSince(from)
    expect(missed.map((e) => e.op)).toEqual(['append', 'append'])
    const stream = await openEvents(base, { clientId: 'watcher-3', since: from })
    await stream.waitFor(() => stream.changes().length >= 2, 10_000, 'two replayed events')
    expect(stream.changes()).toEqual(missed)
    stream.close()
  })
})
