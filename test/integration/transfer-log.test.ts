// Transfers are logged as what really happened, by both front ends: `cat` is a read, `get` a
// download, a download the client left before the end is `download-interrupted` with the bytes
// sent of the size (never a whole download), and an upload the client abandoned is
// `upload-interrupted` with the bytes received. Real servers, the real CLI, real sockets.
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import type { LogEntry } from '../../src/protocol/index.js'
import { CLI_BIN, baseEnv, runCli } from '../client/run-cli.js'
import {
  encodeName,
  rawConnect,
  startRequest,
  startServer,
  tempBytes,
  tempFilesIn,
  tempDir,
  trackProcess,
  waitFor,
  type ServerHandle,
} from '../helpers/index.js'

const MiB = 1024 * 1024
const BIG = 32 * MiB

/** The change log, as `tandem log --json` prints it. */
async function logOf(server: ServerHandle): Promise<LogEntry[]> {
  const run = await runCli(['--server', server.address, '--json', 'log', '--limit', '1000'])
  expect(run.code, run.stderr).toBe(0)
  return JSON.parse(run.stdout.toString()) as LogEntry[]
}

async function entry(server: ServerHandle, op: string, name: string): Promise<LogEntry> {
  return waitFor(async () => (await logOf(server)).find((e) => e.op === op && e.name === name), {
    what: `a ${op} of ${name} in the log`,
  })
}

/** A raw binary-protocol session of client `id`. */
async function session(server: ServerHandle, id: string) {
  const conn = await rawConnect(server.port)
  await conn.sendPreamble()
  await conn.sendControl({ type: 'hello', role: 'client', id })
  expect((await conn.nextControl()).type).toBe('welcome')
  return conn
}

describe('the change log tells reads, downloads and broken-off transfers apart', () => {
  it('cat is a read and get a download; a cat whose reader left is an interrupted read', async () => {
    const server = await startServer()
    writeFileSync(path.join(server.root, 'note.txt'), 'hello\n')
    writeFileSync(path.join(server.root, 'big.bin'), Buffer.alloc(BIG, 0x61))
    const env = { TANDEM_CLIENT_ID: 'alice' }
    const cat = await runCli(['--server', server.address, 'cat', 'note.txt'], { env })
    expect(cat.stdout.toString()).toBe('hello\n')
    const out = tempDir('tandem-get-')
    const got = await runCli(['--server', server.address, 'get', 'note.txt', `${out}/`], { env })
    expect(got.code, got.stderr).toBe(0)
    expect(await entry(server, 'read', 'note.txt')).toMatchObject({ size: 6, client: 'alice' })
    expect(await entry(server, 'download', 'note.txt')).toMatchObject({ size: 6, client: 'alice' })

    // `tandem cat big.bin | head -c 1`: the reader goes away after the first bytes.
    const proc = spawn(process.execPath, [CLI_BIN, '--server', server.address, 'cat', 'big.bin'], {
      env: baseEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    trackProcess(proc)
    await new Promise<void>((resolve) => proc.stdout.once('data', () => resolve()))
    proc.stdout.destroy()
    await new Promise((resolve) => proc.once('close', resolve))
    const cut = await entry(server, 'download-interrupted', 'big.bin')
    expect(cut).toMatchObject({ size: BIG, client: 'alice', detail: 'a read' })
    expect(cut.bytes).toBeGreaterThan(0)
    expect(cut.bytes).toBeLessThan(BIG)
    const log = await logOf(server)
    expect(
      log.filter((e) => e.name === 'big.bin' && e.op !== 'local-change').map((e) => e.op),
    ).toEqual(['download-interrupted'])
    expect(server.output()).toMatch(
      // How far it got depends on timing: under 1 MiB it is told in KiB.
      /alice stopped downloading big\.bin at \d+ % \(.* [KM]iB of 32\.0 MiB\)/,
    )
  })

  it('binary protocol: a download left midway and an upload abandoned midway, with their bytes', async () => {
    const server = await startServer()
    writeFileSync(path.join(server.root, 'big.bin'), Buffer.alloc(BIG, 0x62))

    const reader = await session(server, 'bob')
    await reader.sendControl({ id: 1, op: 'download', name: 'big.bin' })
    await waitFor(() => reader.frames.some((f) => f.kind === 'data'), { what: 'the first bytes' })
    reader.destroy()
    const left = await entry(server, 'download-interrupted', 'big.bin')
    expect(left).toMatchObject({ size: BIG, client: 'bob', detail: null })
    expect(left.bytes).toBeGreaterThan(0)
    expect(left.bytes).toBeLessThan(BIG)

    const writer = await session(server, 'carol')
    await writer.sendControl({ id: 1, op: 'upload', name: 'up.bin', size: 8 * MiB })
    // The bytes that arrive before the temp file is open are held until the next chunk: so the
    // rest goes once the temp file exists, and then some of it is on the disk.
    await writer.sendBody(Buffer.alloc(1 * MiB, 0x63), { end: false })
    await waitFor(() => tempFilesIn(server.root).length > 0, { what: "the upload's temp file" })
    await writer.sendBody(Buffer.alloc(2 * MiB, 0x63), { end: false })
    await waitFor(() => tempBytes(server.root) > 0, { what: 'part of the body in a temp file' })
    writer.destroy()
    const abandoned = await entry(server, 'upload-interrupted', 'up.bin')
    expect(abandoned).toMatchObject({ size: 8 * MiB, client: 'carol' })
    // What the server had taken when the connection went: some of it, at most what was sent.
    expect(abandoned.bytes).toBeGreaterThan(0)
    expect(abandoned.bytes).toBeLessThanOrEqual(3 * MiB)
    expect((await logOf(server)).some((e) => e.op === 'upload' && e.name === 'up.bin')).toBe(false)
    expect(server.output()).toMatch(
      /carol stopped uploading up\.bin at \d+ % \(.+ of 8\.0 MiB\); nothing stored/,
    )
  })

  it('HTTP: ?purpose=read is a read; a GET and an upload broken off are interrupted, with their bytes', async () => {
    const server = await startServer({ http: true })
    const base = server.httpUrl!
    writeFileSync(path.join(server.root, 'page.txt'), 'viewed')
    writeFileSync(path.join(server.root, 'big.bin'), Buffer.alloc(BIG, 0x64))
    const headers = { 'x-tandem-client-id': 'dave' }

    const view = startRequest(base, { path: `/api/v1/files/page.txt?purpose=read`, headers })
    view.req.end()
    expect((await view.response).status).toBe(200)
    expect(await entry(server, 'read', 'page.txt')).toMatchObject({ size: 6, client: 'dave' })

    const get = startRequest(base, { path: `/api/v1/files/${encodeName('big.bin')}`, headers })
    get.req.end()
    await new Promise<void>((resolve) =>
      get.req.once('response', (res) => res.once('data', () => resolve())),
    )
    get.req.destroy()
    const cut = await entry(server, 'download-interrupted', 'big.bin')
    expect(cut).toMatchObject({ size: BIG, client: 'dave' })
    expect(cut.bytes).toBeGreaterThan(0)
    expect(cut.bytes).toBeLessThan(BIG)

    const put = startRequest(base, {
      method: 'PUT',
      path: '/api/v1/files/put.bin',
      headers: {
        ...headers,
        'content-type': 'application/octet-stream',
        'content-length': 8 * MiB,
      },
    })
    await put.write(Buffer.alloc(2 * MiB, 0x65))
    await waitFor(() => tempBytes(server.root) > 0, {
      what: 'part of the body in a temp file',
      timeoutMs: 30_000,
    })
    put.req.destroy()
    const abandoned = await entry(server, 'upload-interrupted', 'put.bin')
    expect(abandoned).toMatchObject({ client: 'dave', size: 8 * MiB })
    expect(abandoned.bytes).toBeGreaterThan(0)
    expect(abandoned.bytes).toBeLessThanOrEqual(2 * MiB)
  })
})
