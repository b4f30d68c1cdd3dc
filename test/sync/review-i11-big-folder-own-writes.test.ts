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

/** The index's live files and its change sequence, from `status`. */
async function index(address: string): Promise<{ files: number; seq: number }> {
  const run = await runCli(['--server', address, '--json', 'status'])
  const { sync } = JSON.parse(run.stdout.toString()) as { sync: { files?: number; seq?: number } }
  return { files: sync.files ?? 0, seq: sync.seq ?? 0 }
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
    await waitFor(async () => (await index(server.address)).files === FILES, {
      what: 'the files indexed',
      timeoutMs: 120_000,
      intervalMs: 500,
    })
    const before = (await index(server.address)).seq
    const reply = await httpRequest(server.httpUrl!, '/api/v1/rename', {
      method: 'POST',
      json: { from: 'big', to: 'moved' },
      clientId: 'alice',
      timeoutMs: 120_000,
    })
    expect(reply.status).toBe(200)
    // Once the index holds the move (a new entry and a tombstone per file), a marker by another
    // program comes after it: reported after anything about the move.
    await waitFor(async () => (await index(server.address)).seq >= before + 2 * FILES, {
      what: 'the move indexed',
      timeoutMs: 120_000,
      intervalMs: 500,
    })
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
