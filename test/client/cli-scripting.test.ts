// Scripting that never surprises, end to end with the built CLI and real servers: errors as JSON
// on stdout with --json, Ctrl+C (SIGINT) ends every command with status 130 and leaves no partial
// download, and a busy server is waited for (saying so on stderr) unless --no-wait.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  rawConnect,
  startServer,
  tempDir,
  trackProcess,
  waitFor,
  type ServerHandle,
} from '../helpers/index.js'
import { baseEnv, CLI_BIN, cliAs, errorCode, runCli, spawnCli } from './run-cli.js'

beforeAll(() => {
  if (!existsSync(CLI_BIN))
    throw new Error('dist/bin/tandem.js is missing: run `npm run build` first')
})

function client(server: ServerHandle, id = 'cli-scripting') {
  const { env, tandem } = cliAs(server.address, id)
  return { env: env(), tandem }
}

describe('--json errors', () => {
  it('prints the error as JSON on stdout too, for failures and usage errors', async () => {
    const { tandem } = client(await startServer({ name: 'A' }))
    const missing = await tandem(['--json', 'cat', 'nope.txt'])
    expect([missing.code, errorCode(missing)]).toEqual([1, 'ERR_NOT_FOUND'])
    const shown = JSON.parse(missing.stdout.toString()) as { error: { message: string } }
    expect(shown).toEqual({ error: { code: 'ERR_NOT_FOUND', message: expect.any(String) } })
    expect(missing.stderr).toBe(`error: ERR_NOT_FOUND: ${shown.error.message}\n`)
    // Usage errors, found by the parser before anything runs; --json after the command counts.
    for (const args of [
      ['ls', '--bogus', '--json'],
      ['--json', 'frobnicate'],
      ['--json', 'lock', '1', '--ttl', 'soon'],
    ]) {
      const run = await tandem(args)
      expect([args, run.code, errorCode(run)]).toEqual([args, 2, 'ERR_USAGE'])
      expect(JSON.parse(run.stdout.toString())).toMatchObject({ error: { code: 'ERR_USAGE' } })
    }
    // Without --json stdout stays empty.
    const plain = await tandem(['cat', 'nope.txt'])
    expect([plain.code, plain.stdout.toString()]).toEqual([1, ''])
  })
})

describe('durations', () => {
  it('takes --ttl with units and refuses nonsense with ERR_USAGE', async () => {
    const { tandem } = client(await startServer({ name: 'A' }))
    expect((await tandem(['create', 'plan.txt', '--text', 'p'])).code).toBe(0)
    const before = Date.now()
    const locked = await tandem(['--json', 'lock', 'plan.txt', '--ttl', '10m'])
    expect(locked.code).toBe(0)
    const { expiresAt } = JSON.parse(locked.stdout.toString()) as { expiresAt: number }
    expect(expiresAt).toBeGreaterThanOrEqual(before + 600_000)
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 600_000)
    for (const bad of ['0', '-5', '1.5h', '10w', 'soon', '3651d']) {
      const run = await tandem(['lock', 'plan.txt', '--ttl', bad])
      expect([bad, run.code, errorCode(run)]).toEqual([bad, 2, 'ERR_USAGE'])
    }
    const wait = await tandem(['--wait', 'forever', 'ls'])
    expect([wait.code, errorCode(wait)]).toEqual([2, 'ERR_USAGE'])
    const env = await tandem(['ls'], { env: { TANDEM_WAIT: '5 minutes' } })
    expect([env.code, errorCode(env)]).toEqual([2, 'ERR_USAGE'])
  })
})

describe('Ctrl+C', () => {
  it('ends log --follow with status 130 and one ERR_INTERRUPTED line', async () => {
    const server = await startServer({ name: 'A' })
    const { env, tandem } = client(server)
    expect((await tandem(['create', 'seen.txt', '--text', 's'])).code).toBe(0)
    const follower = spawnCli(['log', '--follow', '--json'], { env })
    await waitFor(() => follower.stdout().includes('"seen.txt"'), { what: 'the follower' })
    follower.proc.kill('SIGINT')
    expect(await follower.exited).toBe(130)
    expect(follower.stderr()).toBe('error: ERR_INTERRUPTED: interrupted (Ctrl+C)\n')
  })

  it('ends a command that waits for stdin', async () => {
    const server = await startServer({ name: 'A' })
    const { env } = client(server)
    // stdin is a pipe that nobody writes to or closes.
    const writer = spawn(process.execPath, [CLI_BIN, 'create', 'x.txt'], {
      env: baseEnv(env),
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    trackProcess(writer)
    let stderr = ''
    writer.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    const exited = new Promise((resolve) => writer.once('close', resolve))
    // Connected (it connects before reading stdin): the server counts it.
    await waitFor(
      async () => {
        const run = await runCli(['--json', 'status'], { env })
        const status = JSON.parse(run.stdout.toString()) as { clients: { connected: number } }
        return status.clients.connected >= 2
      },
      { what: 'the writer to connect' },
    )
    writer.kill('SIGINT')
    expect(await exited).toBe(130)
    expect(stderr).toBe('error: ERR_INTERRUPTED: interrupted (Ctrl+C)\n')
    writer.stdin.destroy()
  })

  it('ends a get of a large file mid-transfer with 130, leaving no partial or temp file', async () => {
    const server = await startServer({ name: 'A' })
    // 2 GiB, sparse on the server's disk: the download takes long enough to be caught in flight.
    const big = await fs.open(path.join(server.root, 'big.bin'), 'w')
    await big.truncate(2 * 1024 ** 3)
    await big.close()
    const { env } = client(server)
    const here = tempDir('tandem-get-target-')
    const getter = spawnCli(['get', 'big.bin'], { env, cwd: here })
    // The temp file exists and grows: the transfer is under way. Freeze the server so that it
    // stays under way however fast this machine is, then press Ctrl+C.
    await waitFor(
      async () => {
        const [entry] = await fs.readdir(here)
        return entry !== undefined && (await fs.stat(path.join(here, entry))).size > 0
      },
      { what: 'the download to start', intervalMs: 5 },
    )
    server.proc.kill('SIGSTOP')
    try {
      const names = await fs.readdir(here)
      expect(names).toEqual([expect.stringMatching(/^\.big\.bin\.tandem-part-/)])
      getter.proc.kill('SIGINT')
      expect(await getter.exited).toBe(130)
    } finally {
      server.proc.kill('SIGCONT')
    }
    expect(getter.stderr()).toBe('error: ERR_INTERRUPTED: interrupted (Ctrl+C)\n')
    expect(await fs.readdir(here)).toEqual([])
  })
})

describe('a busy server', () => {
  it('is waited for (said on stderr), and --no-wait fails at once with ERR_BUSY', async () => {
    const server = await startServer({ name: 'Small', maxClients: 1 })
    const holderClient = client(server, 'holder')
    expect((await holderClient.tandem(['create', 'busy', '--text', 'b'])).code).toBe(0)
    const holder = spawnCli(['log', '--follow', '--json'], { env: holderClient.env })
    await waitFor(() => holder.stdout().includes('"busy"'), { what: 'the holder to connect' })
    const { env, tandem } = client(server, 'late')

    const now = await tandem(['--no-wait', '--json', 'ls'])
    expect([now.code, errorCode(now)]).toEqual([1, 'ERR_BUSY'])
    expect(JSON.parse(now.stdout.toString())).toEqual({
      error: {
        code: 'ERR_BUSY',
        message: expect.stringContaining('1 clients'),
        retryAfterMs: 1000,
      },
    })

    const waiter = spawnCli(['--json', 'ls'], { env })
    await waitFor(() => waiter.stderr().includes('is busy'), { what: 'the wait to be announced' })
    expect(waiter.stderr().split('\n')[0]).toMatch(
      new RegExp(
        `^server ${server.address.replace(/\./g, '\\.')} is busy \\(the server is serving its maximum of 1 clients\\); retrying in 1 s — up to \\d+(\\.\\d)? s more \\(--no-wait to fail at once\\)$`,
      ),
    )
    expect(waiter.stdout()).toBe('')
    // Ctrl+C ends a wait too.
    const stopped = spawnCli(['ls'], { env })
    await waitFor(() => stopped.stderr().includes('is busy'), { what: 'the second wait' })
    stopped.proc.kill('SIGINT')
    expect(await stopped.exited).toBe(130)
    expect(stopped.stderr().trimEnd().split('\n').at(-1)).toBe(
      'error: ERR_INTERRUPTED: interrupted (Ctrl+C)',
    )
    holder.proc.kill('SIGINT')
    expect(await holder.exited).toBe(130)
    expect(await waiter.exited).toBe(0)
    const rows = JSON.parse(waiter.stdout()) as { name: string }[]
    expect(rows.map((r) => r.name)).toEqual(['busy'])
    // One line per wait on stderr, nothing else.
    for (const line of waiter.stderr().trimEnd().split('\n')) expect(line).toMatch(/ is busy /)
  })

  it('gives up after --wait with ERR_BUSY, saying how long it waited', async () => {
    const server = await startServer({ name: 'Small', maxClients: 1 })
    const holderClient = client(server, 'holder')
    expect((await holderClient.tandem(['create', 'busy', '--text', 'b'])).code).toBe(0)
    const holder = spawnCli(['log', '--follow', '--json'], { env: holderClient.env })
    await waitFor(() => holder.stdout().includes('"busy"'), { what: 'the holder to connect' })
    const { tandem } = client(server, 'late')
    const run = await tandem(['--wait', '2s', 'ls'])
    const lines = run.stderr.trimEnd().split('\n')
    expect(run.code).toBe(1)
    expect(lines.at(-1)).toMatch(
      /^error: ERR_BUSY: the server is serving its maximum of 1 clients; try again shortly \(still busy after waiting 2 s; --wait SECONDS waits longer\)$/,
    )
    expect(lines.slice(0, -1).length).toBeGreaterThanOrEqual(1)
    for (const line of lines.slice(0, -1)) expect(line).toMatch(/ is busy /)
  })

  it('waits out the busy answer of the hello gate too (connections that have not said hello)', async () => {
    const server = await startServer({ name: 'A', extraArgs: ['--max-pre-hello-per-address', '1'] })
    const silent = await rawConnect(server.port) // connected, says nothing: holds the one place
    const { env } = client(server)
    const waiter = spawnCli(['--json', 'status'], { env })
    await waitFor(() => waiter.stderr().includes('is busy'), { what: 'the wait to be announced' })
    expect(waiter.stderr()).toContain('have not said hello yet')
    silent.socket.destroy()
    expect(await waiter.exited).toBe(0)
    expect(JSON.parse(waiter.stdout())).toMatchObject({ server: { name: 'A' } })
  })

  it('tries the other --server addresses before waiting', async () => {
    const busy = await startServer({ name: 'Small', maxClients: 1 })
    const free = await startServer({ name: 'Free' })
    const holderClient = client(busy, 'holder')
    expect((await holderClient.tandem(['create', 'busy', '--text', 'b'])).code).toBe(0)
    const holder = spawnCli(['log', '--follow', '--json'], { env: holderClient.env })
    await waitFor(() => holder.stdout().includes('"busy"'), { what: 'the holder to connect' })
    const { tandem } = client(busy, 'late')
    const run = await tandem(['--server', `${busy.address},${free.address}`, '--json', 'status'])
    expect([run.code, run.stderr]).toEqual([0, ''])
    expect(JSON.parse(run.stdout.toString())).toMatchObject({ server: { name: 'Free' } })
  })
})

describe('help', () => {
  it('tandem --help lists serve; serve --help and help serve print the server options', async () => {
    const help = await runCli(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout.toString()).toMatch(/\n {2}serve \[options\.\.\.\] +run a server: /)
    for (const args of [
      ['serve', '--help'],
      ['help', 'serve'],
    ]) {
      const run = await runCli(args)
      expect([args, run.code, run.stderr]).toEqual([args, 0, ''])
      expect(run.stdout.toString()).toContain('Usage: tandem serve [options]')
      expect(run.stdout.toString()).toContain('--sync-port <port>')
    }
    // After client options it is not the server: said so, as a usage error.
    const late = await runCli(['--json', 'serve', '--port', '0'])
    expect([late.code, errorCode(late)]).toEqual([2, 'ERR_USAGE'])
    expect(late.stderr).toContain('serve must be the first argument')
  })
})
