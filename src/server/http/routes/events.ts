/**
 * The change log as Server-Sent Events. A stream first replays what came after the client's
 * Last-Event-ID (or ?since), read from the log page by page, then sends new entries as the main
 * thread reports them; entries that arrive during the replay are held and sent after it, so none
 * is lost or sent twice. A consumer too slow to keep up is cut off (it resumes by Last-Event-ID).
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ServerResponse } from 'node:http'
import type { LogEntry } from '../../../protocol/index.js'
import type { MainLink } from '../main-link.js'

const KEEPALIVE_MS = 15_000
const REPLAY_PAGE = 1000
/** Unsent bytes a stream may hold before it is closed. */
const MAX_BUFFERED = 8 * 1024 * 1024

/** The open streams: ended when the server stops (they never end by themselves). */
const open = new Map<ServerResponse, () => void>()

export function endAllStreams(): void {
  for (const [res, stop] of open) {
    stop() // unsubscribed first: nothing is written after the end
    res.end()
  }
}

export async function streamEvents(
  request: FastifyRequest,
  reply: FastifyReply,
  main: MainLink,
  sinceQuery: number | undefined,
): Promise<void> {
  const header = request.headers['last-event-id']
  const lastId = typeof header === 'string' && /^\d+$/.test(header.trim()) ? Number(header) : NaN
  const since = Number.isSafeInteger(lastId) ? lastId : sinceQuery
  reply.hijack()
  const res = reply.raw
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
  })
  res.write('retry: 2000\n\n')
  let last = since ?? -1
  let held: LogEntry[] | undefined = []
  const writable = (): boolean => !res.destroyed && !res.writableEnded
  res.on('error', () => undefined) // a reader gone mid-write: 'close' follows
  const send = (entry: LogEntry): void => {
    if (entry.seq <= last || !writable()) return
    last = entry.seq
    res.write(`id: ${entry.seq}\nevent: change\ndata: ${JSON.stringify(entry)}\n\n`)
    if (res.writableLength > MAX_BUFFERED) res.destroy()
  }
  const unsubscribe = main.subscribe((entry) => (held ? held.push(entry) : send(entry)))
  const keepalive = setInterval(() => writable() && res.write(': keepalive\n\n'), KEEPALIVE_MS)
  const stop = (): void => {
    open.delete(res)
    clearInterval(keepalive)
    unsubscribe()
  }
  open.set(res, stop)
  res.once('close', stop)
  try {
    if (since !== undefined) {
      for (;;) {
        const page = await request.ops.readLog({ since: last, limit: REPLAY_PAGE })
        for (const entry of page) send(entry)
        if (page.length < REPLAY_PAGE || !writable()) break
      }
    } else {
      last = -1
    }
  } catch {
    res.destroy()
  }
  const pending = held
  held = undefined
  for (const entry of pending) send(entry)
}
