// The client CLI end to end: the built executable against a real server on port 0, in temp dirs.
// Checks results through --json, exit statuses, and the one `error: ERR_...` line on failures.
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { FileRow } from '../../src/protocol/index.js'
import { startServer, tempDir, waitFor, type ServerHandle } from '../helpers/index.js'
import { CLI_BIN, errorCode, runCli, spawnCli, type CliOptions } from './run-cli.js'

let server: ServerHandle
let configHome: string

beforeAll(async () => {
  if (!existsSync(CLI_BIN))
    throw new Error('dist/bin/tandem.js is missing: run `npm run build` first')
  server = await startServer({ name: 'A' })
  configHome = tempDir('tandem-cli-config-')
})

/** Run against the test server as client 'cli-test'. */
function tandem(args: readonly string[], options: CliOptions = {}) {
  const env = {
    TANDEM_SERVER: server.address,
    TANDEM_CLIENT_ID: 'cli-test',
    XDG_CONFIG_HOME: configHome,
    ...options.env,
  }
  return runCli(args, { ...options, env })
}

async function json<T>(args: readonly string[]): Promise<T> {
  const run = await tandem([...args, '--json'])
  expect(run.stderr).toBe('')
  expect(run.code).toBe(0)
  return JSON.parse(run.stdout.toString('utf8')) as T
}

type Row = FileRow

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex')

describe('files', () => {
  it('create, write and append from --text and stdin, then cat', async () => {
    expect((await tandem(['create', 'notes/a.txt', '--text', 'one\n'])).code).toBe(0)
    const again = await tandem(['create', 'notes/a.txt', '--text', 'x'])
    expect(again.code).toBe(1)
    expect(errorCode(again)).toBe('ERR_EXISTS')
    expect((await tandem(['append', 'notes/a.txt'], { input: 'two\n' })).code).toBe(0)
    const cat = await tandem(['cat', 'notes/a.txt'])
    expect(cat.stdout.toString()).toBe('one\ntwo\n')
    const written = await json<{ name: string; size: number; sha256: string }>([
      'write',
      'notes/a.txt',
      '--text',
      'new',
    ])
    expect(written).toMatchObject({
      name: 'notes/a.txt',
      size: 3,
      sha256: sha256(Buffer.from('new')),
    })
    expect((await tandem(['cat', 'notes/a.txt'])).stdout.toString()).toBe('new')
  })

  it('lists rows with index, name, size, mtime, servers and locked', async () => {
    await tandem(['create', 'ls/b.txt', '--text', 'bb'])
    await tandem(['create', 'ls/a.txt', '--text', 'a'])
    const rows = await json<Row[]>(['ls'])
    const mine = rows.filter((row) => row.name.startsWith('ls/'))
    expect(mine.map((row) => [row.name, row.size, row.servers, row.locked])).toEqual([
      ['ls/a.txt', 1, ['A'], false],
      ['ls/b.txt', 2, ['A'], false],
    ])
    expect(rows.map((row) => row.index)).toEqual(rows.map((_, i) => i))
    expect(typeof mine[0]!.mtime).toBe('number')
    const human = await tandem(['ls'])
    expect(human.stdout.toString()).toMatch(/ls\/b\.txt\s+2 B\s+\d{4}-\d\d-\d\d \d\d:\d\d/)
  })

  it('mv and rm, with ERR_NOT_FOUND and ERR_EXISTS', async () => {
    await tandem(['create', 'mv/one', '--text', '1'])
    await tandem(['create', 'mv/two', '--text', '2'])
    expect(await json(['mv', 'mv/one', 'mv/uno'])).toEqual({ from: 'mv/one', to: 'mv/uno' })
    expect(errorCode(await tandem(['mv', 'mv/one', 'mv/x']))).toBe('ERR_NOT_FOUND')
    const exists = await tandem(['mv', 'mv/uno', 'mv/two'])
    expect([exists.code, errorCode(exists)]).toEqual([1, 'ERR_EXISTS'])
    expect(await json(['rm', 'mv/uno'])).toEqual({ name: 'mv/uno' })
    const gone = await tandem(['rm', 'mv/uno'])
    expect([gone.code, errorCode(gone)]).toEqual([1, 'ERR_NOT_FOUND'])
    expect(errorCode(await tandem(['cat', 'mv/uno']))).toBe('ERR_NOT_FOUND')
  })

  it('refuses bad names with ERR_BAD_PATH', async () => {
    const run = await tandem(['create', '../escape', '--text', 'x'])
    expect([run.code, errorCode(run)]).toEqual([1, 'ERR_BAD_PATH'])
  })
})

describe('put and get', () => {
  it('puts one file under its name or a NAME, with its mtime and size', async () => {
    const dir = tempDir()
    const local = path.join(dir, 'report.txt')
    await fs.writeFile(local, 'report')
    const mtime = new Date('2025-01-02T03:04:05.678Z')
    await fs.utimes(local, mtime, mtime)
    expect((await tandem(['put', local], { cwd: dir })).code).toBe(0)
    const renamed = await json<{ files: { name: string; local: string }[] }>([
      'put',
      local,
      'put/renamed.txt',
    ])
    expect(renamed.files).toMatchObject([{ name: 'put/renamed.txt', local }])
    const rows = await json<Row[]>(['ls'])
    for (const name of ['report.txt', 'put/renamed.txt']) {
      const row = rows.find((r) => r.name === name)
      expect(row).toMatchObject({ size: 6 })
      // Within 1 ms: a float mtime in seconds can come back a hair under the millisecond.
      expect(Math.abs(row!.mtime - mtime.getTime())).toBeLessThanOrEqual(1)
    }
  })

  it('puts a folder with sub-folders under its own name, and several files into the root /', async () => {
    const dir = tempDir()
    await fs.mkdir(path.join(dir, 'photos', '2026'), { recursive: true })
    await fs.writeFile(path.join(dir, 'photos', 'a.jpg'), 'A')
    await fs.writeFile(path.join(dir, 'photos', '2026', 'b.jpg'), randomBytes(300_000))
    await fs.writeFile(path.join(dir, 'c.txt'), 'C')
    const result = await json<{ files: { name: string }[] }>(['put', path.join(dir, 'photos')])
    expect(result.files.map((f) => f.name).sort()).toEqual(['photos/2026/b.jpg', 'photos/a.jpg'])
    const several = await json<{ files: { name: string }[] }>([
      'put',
      path.join(dir, 'photos', 'a.jpg'),
      path.join(dir, 'c.txt'),
      '/',
    ])
    expect(several.files.map((f) => f.name).sort()).toEqual(['a.jpg', 'c.txt'])
    const back = await tandem(['cat', 'photos/2026/b.jpg'])
    expect(back.stdout.equals(await fs.readFile(path.join(dir, 'photos', '2026', 'b.jpg')))).toBe(
      true,
    )
  })

  it('fails a put of a missing local file with ERR_NOT_FOUND', async () => {
    const run = await tandem(['put', path.join(tempDir(), 'missing.txt'), 'x.txt'])
    expect([run.code, errorCode(run)]).toEqual([1, 'ERR_NOT_FOUND'])
  })

  it('gets a 20 MiB file with equal SHA-256, atomically, into a folder or a path', async () => {
    const dir = tempDir()
    const content = randomBytes(20 * 1024 * 1024)
    await fs.writeFile(path.join(dir, 'big.bin'), content)
    expect((await tandem(['put', path.join(dir, 'big.bin'), 'big/big.bin'])).code).toBe(0)
    const out = path.join(dir, 'out')
    await fs.mkdir(out)
    const result = await json<{ files: { path: string; size: number; sha256: string }[] }>([
      'get',
      'big/big.bin',
      out,
    ])
    expect(result.files).toHaveLength(1)
    expect(result.files[0]).toMatchObject({
      path: path.join(out, 'big.bin'),
      size: content.length,
      sha256: sha256(content),
    })
    expect(sha256(await fs.readFile(path.join(out, 'big.bin')))).toBe(sha256(content))
    expect(await fs.readdir(out)).toEqual(['big.bin']) // no temp file left
    const missing = await tandem(['get', 'big/nope', path.join(out, 'nope')])
    expect([missing.code, errorCode(missing)]).toEqual([1, 'ERR_NOT_FOUND'])
    expect(await fs.readdir(out)).toEqual(['big.bin'])
  })
})

describe('log and status', () => {
  it('log --json lists operations with their client; --limit bounds it', async () => {
    await tandem(['create', 'log/x', '--text', 'x'])
    const entries = await json<{ op: string; name: string; client: string }[]>(['log'])
    expect(
      entries.some((e) => e.op === 'create' && e.name === 'log/x' && e.client === 'cli-test'),
    ).toBe(true)
    expect(await json<unknown[]>(['log', '--limit', '1'])).toHaveLength(1)
    const bad = await tandem(['log', '--limit', 'zero'])
    expect([bad.code, errorCode(bad)]).toEqual([2, 'ERR_USAGE'])
  })

  it('log --follow --json prints new entries as they happen', async () => {
    const follower = spawnCli(['log', '--follow', '--json', '--limit', '1'], {
      env: { TANDEM_SERVER: server.address, TANDEM_CLIENT_ID: 'follower' },
    })
    await waitFor(() => follower.stdout().includes('\n'), { what: 'the first log line' })
    await tandem(['create', 'follow/new', '--text', 'n'])
    const line = await waitFor(
      () =>
        follower
          .stdout()
          .split('\n')
          .find((l) => l.includes('"follow/new"')),
      { what: 'the follow event' },
    )
    expect(JSON.parse(line)).toMatchObject({ op: 'create', name: 'follow/new', client: 'cli-test' })
  })

  it('status --json names the server and counts this client', async () => {
    const status = await json<{ server: { name: string }; clients: { connected: number } }>([
      'status',
    ])
    expect(status.server.name).toBe('A')
    expect(status.clients.connected).toBeGreaterThanOrEqual(1)
  })
})

describe('command line', () => {
  it('exits 2 with ERR_USAGE on usage errors, and prints help with no command off a terminal', async () => {
    for (const args of [
      ['frobnicate'],
      ['ls', '--bogus'],
      ['mv', 'only-one'],
      ['--server', 'nonsense', 'ls'],
    ]) {
      const run = await tandem(args)
      expect([args, run.code, errorCode(run)]).toEqual([args, 2, 'ERR_USAGE'])
    }
    const bare = await tandem([])
    expect(bare.code).toBe(2)
    expect(bare.stderr).toContain('Usage: tandem')
    const help = await tandem(['--help'])
    expect([help.code, help.stdout.toString()]).toEqual([0, expect.stringContaining('Commands:')])
  })

  it('reports an unreachable server, and tries the next address of --server', async () => {
    const dead = await startServer({ name: 'Dead' })
    const deadAddress = dead.address
    await dead.stop()
    const run = await tandem(['ls'], { env: { TANDEM_SERVER: deadAddress } })
    expect([run.code, errorCode(run)]).toEqual([1, 'ERR_UNREACHABLE'])
    const fallback = await tandem([
      '--server',
      `${deadAddress},${server.address}`,
      'status',
      '--json',
    ])
    expect(fallback.code).toBe(0)
    expect(JSON.parse(fallback.stdout.toString())).toMatchObject({ server: { name: 'A' } })
  })

  it('reports ERR_BUSY when the server is full', async () => {
    const small = await startServer({ name: 'Small', maxClients: 1 })
    const env = { TANDEM_SERVER: small.address, TANDEM_CLIENT_ID: 'holder' }
    // A log entry first, so that the holder prints a line once it is connected.
    expect((await runCli(['create', 'busy', '--text', 'b'], { env })).code).toBe(0)
    const holder = spawnCli(['log', '--follow', '--json'], { env })
    await waitFor(() => holder.stdout().includes('"busy"'), { what: 'the holder to connect' })
    const run = await runCli(['--no-wait', 'ls'], { env: { ...env, TANDEM_CLIENT_ID: 'late' } })
    expect([run.code, errorCode(run)]).toEqual([1, 'ERR_BUSY'])
  })

  it('keeps a generated client id in the config dir and uses it', async () => {
    const home = tempDir('tandem-cli-home-')
    const env = { TANDEM_CLIENT_ID: undefined, XDG_CONFIG_HOME: home }
    expect((await tandem(['create', 'id/x', '--text', 'x'], { env })).code).toBe(0)
    const id = (await fs.readFile(path.join(home, 'tandem', 'client-id'), 'utf8')).trim()
    expect(id.length).toBeGreaterThan(0)
    await tandem(['create', 'id/y', '--text', 'y'], { env })
    const entries = await json<{ name: string; client: string }[]>(['log'])
    expect(entries.filter((e) => e.name?.startsWith('id/')).map((e) => e.client)).toEqual([id, id])
  })
})

describe('pipes and stdin', () => {
  it('`cat BIG | head` ends quietly with status 0', async () => {
    await tandem(['create', 'pipes/big.bin'], { input: randomBytes(8 * 1024 * 1024) })
    const proc = spawn(
      process.execPath,
      [CLI_BIN, '--server', server.address, 'cat', 'pipes/big.bin'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let stderr = ''
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    // Read one chunk, then go away like `head` does.
    await new Promise<void>((resolve) => proc.stdout.once('data', () => resolve()))
    proc.stdout.destroy()
    const [code] = (await once(proc, 'exit')) as [number | null]
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
  })

  it('`write` refuses an empty stdin (it would empty the file); --text "" empties it on purpose', async () => {
    await tandem(['create', 'pipes/keep.txt', '--text', 'keep me'])
    const run = await tandem(['write', 'pipes/keep.txt'], { input: '' })
    expect([run.code, errorCode(run)]).toEqual([2, 'ERR_USAGE'])
    expect((await tandem(['cat', 'pipes/keep.txt'])).stdout.toString()).toBe('keep me')
    expect((await tandem(['write', 'pipes/keep.txt', '--text', ''])).code).toBe(0)
    expect((await tandem(['cat', 'pipes/keep.txt'])).stdout.length).toBe(0)
  })

  it('a bad name fails at once, without waiting for stdin to end', async () => {
    const proc = spawn(process.execPath, [CLI_BIN, '--server', server.address, 'write', '../x'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    proc.stdin.write('the pipe stays open\n') // and is never ended by us
    let stderr = ''
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const [code] = (await once(proc, 'exit')) as [number | null]
    proc.stdin.destroy()
    expect(code).toBe(1)
    expect(stderr).toMatch(/^error: ERR_BAD_PATH: /)
  })
})
