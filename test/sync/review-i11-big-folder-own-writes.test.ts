// A client's rename of a big folder (6,000 files, over the HTTP API) is the server's own work:
// its own-writes notice (2N+2 names, more than the 10,000 kept at most) is never pushed out by
// the rest of itself, so no file of it is reported as a `local-change`.
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import type { LogEntry } from '../../src/protocol/index.js'
import { runCli } from '../client/run-cli.js'
import { httpRequest, startServer, tempDir, waitFor } from '../helpers/index.js'

const FILES = 6_000

async function log(address: string): Promise<LogEntry[]> {
  const run = await runCli(['--server', address, '--json', 'log', '--limit', '100000'])
  return JSON.parse(run.stdout.toString()) as LogEntry[]
}

async function indexed(address: string): Promise<number> {
  const run = await runCli(['--server', address, '--json', 'status'])
  return (JSON.parse(run.stdout.toString()) as { sync: { files?: number } }).sync.files ?? 0
}

describe('review i11: own writes of a big folder operation', () => {
  it(`a client's rename of a folder of ${FILES} files logs no local-change`, async () => {
    const base = tempDir('tandem-big-')
    const root = path.join(base, 'root')
    mkdirSync(path.join(root, 'big'), { recursive: true })
    // There before the first start: the first inventory indexes them quietly.
    for (let i = 0; i < FILES; i++)
      writeFileSync(path.join(root, 'big', `f${String(i).padStart(5, '0')}.txt`), `${i}\n`)
    const server = await startServer({ root, http: true })
    await waitFor(async () => (await indexed(server.address)) === FILES, {
      what: 'the files indexed',
      timeoutMs: 120_000,
      intervalMs: 500,
    })
    const reply = await httpRequest(server.httpUrl!, '/api/v1/rename', {
      method: 'POST',
      json: { from: 'big', to: 'moved' },
      clientId: 'alice',
      timeoutMs: 120_000,
    })
    expect(reply.status).toBe(200)
    // A marker by another program after the move: reported after anything about the move.
    await new Promise((r) => setTimeout(r, 2_000))
    writeFileSync(path.join(root, 'marker.txt'), 'x')
    await waitFor(async () => (await log(server.address)).some((e) => e.name === 'marker.txt'), {
      what: 'the marker in the log',
      timeoutMs: 120_000,
      intervalMs: 500,
    })
    const local = (await log(server.address)).filter(
      (e) => e.op === 'local-change' && e.name !== 'marker.txt',
    )
    expect(local.length, JSON.stringify(local.slice(0, 3))).toBe(0)
  }, 300_000)
})
