// Review: the HTTP worker's shutdown with an event stream open. serveHttp (src/server/http/
// worker.ts, the HTTP worker's entry, also run in-process by TANDEM_HTTP_THREAD=main) is driven
// here over a MessageChannel whose other end answers as HttpHost does (admission, follow). The
// main thread keeps forwarding change-log events until the worker has exited (MainServices.end
// runs on 'exit'): an operation that finishes during the grace period — the very thing the
// grace period is for — sends one right after 'shutdown'. endAllStreams() has ended the
// response (res.end) and the stream's 'close' has not come yet, so send() writes after end:
// Node emits 'error' on a ServerResponse nobody listens to, an uncaught exception that kills the
// HTTP thread mid-shutdown (bodies in progress never remove their temp files).
import { mkdirSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { MessageChannel } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import type { LogEntry } from '../../src/protocol/index.js'
import type { FromHttpWorker, ToHttpWorker } from '../../src/server/http/messages.js'
import { unbatch } from '../../src/server/workers/request-reply.js'
import { serveHttp } from '../../src/server/http/worker.js'
import { tempDir } from '../helpers/temp-dir.js'
import { waitFor } from '../helpers/wait-for.js'

describe('review: HTTP worker shutdown', () => {
  const uncaught: unknown[] = []
  const onUncaught = (err: unknown): void => void uncaught.push(err)
  afterEach(() => void process.off('uncaughtException', onUncaught))

  it('an event forwarded just after shutdown does not crash the thread (write after end)', async () => {
    process.on('uncaughtException', onUncaught)
    const base = tempDir('review-shutdown-')
    const root = path.join(base, 'root')
    const stateDir = path.join(base, 'state')
    mkdirSync(root)
    mkdirSync(stateDir)
    const { port1: host, port2: worker } = new MessageChannel()
    let listening: number | undefined
    const post = (m: ToHttpWorker) => host.postMessage(m)
    host.on('message', (batch: FromHttpWorker) => {
      for (const m of unbatch(batch)) {
        if (m.t === 'listening') listening = m.port
        else if (m.t === 'admit') post({ t: 'reply', req: m.req, value: undefined })
      }
    })
    let exited = false
    await serveHttp(
      {
        serverName: 'A',
        root,
        stateDir,
        primary: null,
        host: '127.0.0.1',
        port: 0,
        idleTimeoutMs: 60_000,
        headersTimeoutMs: 10_000,
        maxConnections: 16,
        shutdownGraceMs: 2_000,
        proxyReads: false,
      },
      worker,
      () => void (exited = true),
    )
    const port = await waitFor(() => listening, { timeoutMs: 5_000, what: 'listening' })
    // A page in a background tab, or a slow link: the stream is open, the reader slow.
    const reader = net.connect(port, '127.0.0.1')
    let head = ''
    reader.on('data', (b: Buffer) => {
      head += b.toString('latin1')
      if (head.includes('retry: 2000')) reader.pause()
    })
    reader.write(
      'GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Tandem-Client-Id: page\r\n\r\n',
    )
    await waitFor(() => head.includes('retry: 2000'), {
      timeoutMs: 5_000,
      what: 'the stream to open',
    })
    const entry: LogEntry = {
      seq: 1,
      time: Date.now(),
      server: 'A',
      op: 'upload',
      name: 'late.txt',
      to: null,
      client: 'bob',
      size: 1,
      detail: null,
    }
    // Events it has not read yet (6 MB: past what the kernel holds, under the 8 MiB cut-off).
    const detail = 'x'.repeat(100_000)
    for (let seq = 1; seq <= 60; seq++) post({ t: 'event', entry: { ...entry, seq, detail } })
    await new Promise((resolve) => setImmediate(resolve))
    entry.seq = 61
    // A binary upload committed during the grace period: its log entry follows the shutdown.
    post({ t: 'shutdown' })
    post({ t: 'event', entry })
    await waitFor(() => exited, { timeoutMs: 10_000, what: 'the worker side to exit' })
    host.close()
    reader.destroy()
    expect(uncaught.map(String)).toEqual([])
  })
})
