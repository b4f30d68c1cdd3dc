// Admission over HTTP: HTTP clients (by client id) and binary clients share the nine slots. With
// nine clients holding event streams, a tenth gets 503 ERR_BUSY with Retry-After at once, while
// the page, /heartbeat and the OpenAPI document still answer; when a stream closes, it gets in.
import { beforeAll, describe, expect, it } from 'vitest'
import {
  deadline,
  expectError,
  get,
  openEvents,
  startServer,
  TestClient,
  waitFor,
  type EventStream,
  type ServerHandle,
} from '../helpers/index.js'

describe('HTTP: at most nine clients', () => {
  let server: ServerHandle
  let base: string
  beforeAll(async () => {
    server = await startServer({ http: true })
    base = server.httpUrl!
  })

  async function holdStreams(ids: string[]): Promise<EventStream[]> {
    const streams = await Promise.all(ids.map((clientId) => openEvents(base, { clientId })))
    for (const [i, stream] of streams.entries())
      expect(stream.status, `${ids[i]}: ${stream.errorBody}`).toBe(200)
    return streams
  }

  /** Wait until nine requests of nine new clients at once are all served: every slot is free. */
  async function waitAllFree(tag: string): Promise<void> {
    let round = 0
    await waitFor(
      async () => {
        round++
        const replies = await Promise.all(
          Array.from({ length: 9 }, (_, i) =>
            get(base, '/list', { clientId: `${tag}-${round}-${i}` }),
          ),
        )
        return replies.every((reply) => reply.status === 200)
      },
      { timeoutMs: 10_000, intervalMs: 50, what: 'every slot free again' },
    )
  }

  async function expectBusy(clientId: string): Promise<void> {
    // "At once": no queueing for a slot (a generous deadline, not a measure of speed).
    const reply = await deadline(get(base, '/list', { clientId }), 3_000, 'the refusal')
    expectError(reply, 503, 'ERR_BUSY')
    const retryAfter = Number(reply.headers.get('retry-after'))
    expect(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After ${retryAfter}`).toBe(true)
  }

  async function expectUncounted(): Promise<void> {
    expect((await get(base, '/heartbeat', { clientId: 'prober' })).status).toBe(200)
    expect((await get(base, '/api/v1/openapi.json', { clientId: 'prober' })).status).toBe(200)
    // The page's own files are not counted (whether the page is built yet is another test's).
    for (const url of ['/', '/assets/app.js']) {
      const page = await get(base, url, { clientId: 'browser' })
      expect(page.status, `${url}: ${page.text.slice(0, 200)}`).not.toBe(503)
    }
  }

  it('nine event streams: the tenth client gets 503 at once; a freed slot lets it in', async () => {
    const ids = Array.from({ length: 9 }, (_, i) => `streamer-${i}`)
    const streams = await holdStreams(ids)
    await expectBusy('tenth')
    // A binary client is refused too: the same slots.
    const binary = await TestClient.tryConnect(server.port, { clientId: 'tenth-binary' })
    expect(binary.error?.code).toBe('ERR_BUSY')
    await expectUncounted()
    // A client that holds a slot is served however many requests it makes.
    const [a, b] = await Promise.all([
      get(base, '/list', { clientId: ids[3] }),
      get(base, '/api/v1/files', { clientId: ids[3] }),
    ])
    expect([a.status, b.status]).toEqual([200, 200])

    streams[4]!.close()
    const admitted = await waitFor(
      async () => {
        const reply = await get(base, '/list', { clientId: 'tenth' })
        if (reply.status !== 200 && reply.status !== 503)
          throw new Error(`unexpected ${reply.status} ${reply.text}`)
        return reply.status === 200 && reply
      },
      { timeoutMs: 10_000, intervalMs: 50, what: 'the tenth to get the freed slot' },
    )
    expect(Array.isArray(admitted.json())).toBe(true)
    // Its request is over, so its slot is free again: a new stream of it takes the ninth place.
    const tenth = await openEvents(base, { clientId: 'tenth' })
    expect(tenth.status).toBe(200)
    await expectBusy('eleventh')
    for (const stream of [...streams, tenth]) stream.close()
    await waitAllFree('after-streams')
  })

  it('a binary client takes one of the nine', async () => {
    const binary = await TestClient.connect(server.port, { clientId: 'binary-holder' })
    const ids = Array.from({ length: 8 }, (_, i) => `mixed-${i}`)
    const streams = await holdStreams(ids)
    await expectBusy('tenth-mixed')
    await expectUncounted()
    await binary.close()
    await waitFor(
      async () => (await get(base, '/list', { clientId: 'tenth-mixed' })).status === 200,
      {
        timeoutMs: 10_000,
        intervalMs: 50,
        what: 'the tenth to get the binary client’s slot',
      },
    )
    for (const stream of streams) stream.close()
    await waitAllFree('after-mixed')
  })
})
