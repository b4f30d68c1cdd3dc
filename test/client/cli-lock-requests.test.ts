// lock and unlock on the command line, in process, against the fake server: what the client
// sends (an index with the name `ls` showed there, a name, the options) and what it prints.
// The real server's answers are checked in cli.test.ts.
import { PassThrough, Readable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { runCli } from '../../src/client/cli/main.js'
import { ridSchema } from '../../src/protocol/index.js'
import { tempDir } from '../helpers/index.js'
import { startFakeServer, type FakeServer } from './fake-server.js'

let server: FakeServer | undefined

afterEach(async () => {
  await server?.close()
  server = undefined
})

async function fake(names: string[]): Promise<FakeServer> {
  server = await startFakeServer()
  for (const name of names) server.files.set(name, Buffer.from(name))
  return server
}

/** Run the CLI in this process with its own streams; stdout and stderr come back as text. */
async function cli(args: string[], env: Record<string, string>) {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  let out = ''
  let err = ''
  stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk))
  stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk))
  const code = await runCli(args, { stdin: Readable.from([]), stdout, stderr, env })
  return { code, stdout: out, stderr: err }
}

/** The lock and unlock requests the fake server received, without their ids. */
function lockRequests(fakeServer: FakeServer): Record<string, unknown>[] {
  return fakeServer.received.flatMap((r) => {
    if (r.kind !== 'control' || !['lock', 'unlock'].includes(String(r.message.op))) return []
    const rest = { ...r.message }
    delete rest.id
    // Every lock and unlock carries a request id (failover replays reuse it): checked, then set aside.
    if (!ridSchema.safeParse(rest.rid).success)
      throw new Error(`no valid rid in ${JSON.stringify(rest)}`)
    delete rest.rid
    return [rest]
  })
}

describe('lock and unlock requests', () => {
  it('sends an index with the name the last ls showed there', async () => {
    const s = await fake(['a.txt', 'b.txt', 'c.txt'])
    const env = { TANDEM_SERVER: `127.0.0.1:${s.port}`, XDG_CONFIG_HOME: tempDir() }
    const run = (args: string[]) => cli(['--client-id', 'me', ...args], env)
    // Before any ls, the server resolves the index alone.
    expect((await run(['lock', '1'])).code).toBe(0)
    expect((await run(['ls'])).code).toBe(0)
    const locked = await run(['lock', '1', '--ttl', '60'])
    expect(locked).toMatchObject({ code: 0, stderr: '' })
    expect(locked.stdout).toMatch(/^locked b\.txt at F \(until [\d:-]+( [\d:]+)?\)\n$/)
    expect((await run(['lock', '1', '--name'])).code).toBe(1) // no file named '1'
    expect((await run(['-unlock', '-1', '--force'])).stdout).toBe(
      "unlocked b.txt at F (forced; it was fake's): 2 queued updates applied (1 conflict copy)\n",
    )
    expect((await run(['unlock', 'c.txt'])).code).toBe(0)
    expect(lockRequests(s)).toEqual([
      { op: 'lock', index: 1 },
      { op: 'lock', index: 1, expect: 'b.txt', ttlSeconds: 60 },
      { op: 'lock', name: '1' },
      { op: 'unlock', index: 1, expect: 'b.txt', force: true },
      { op: 'unlock', name: 'c.txt' },
    ])
  })

  it('exits 1 with the server code when the index now names another file', async () => {
    const s = await fake(['b.txt', 'c.txt'])
    const env = { TANDEM_SERVER: `127.0.0.1:${s.port}`, XDG_CONFIG_HOME: tempDir() }
    expect((await cli(['ls'], env)).code).toBe(0)
    s.files.delete('b.txt')
    s.files.set('d.txt', Buffer.from('d'))
    const run = await cli(['-lock', '-0'], env)
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/^error: ERR_LISTING_CHANGED: [^\n]+\n$/)
    expect(lockRequests(s)).toEqual([{ op: 'lock', index: 0, expect: 'b.txt' }])
  })

  it('prints the lock and unlock results as JSON with --json', async () => {
    const s = await fake(['a.txt'])
    const env = { TANDEM_SERVER: `127.0.0.1:${s.port}`, XDG_CONFIG_HOME: tempDir() }
    const locked = await cli(['--json', 'lock', 'a.txt'], env)
    expect(JSON.parse(locked.stdout)).toMatchObject({
      name: 'a.txt',
      server: 'F',
      owner: 'fake',
      expiresAt: null,
      queued: 0,
    })
    const unlocked = await cli(['unlock', 'a.txt', '--json'], env)
    expect(JSON.parse(unlocked.stdout)).toEqual({
      name: 'a.txt',
      owner: 'fake',
      forced: false,
      applied: 2,
      conflicts: 1,
    })
  })

  it('refuses an index too large to be one, and a missing target, as usage errors', async () => {
    const s = await fake(['a.txt'])
    const env = { TANDEM_SERVER: `127.0.0.1:${s.port}`, XDG_CONFIG_HOME: tempDir() }
    for (const args of [['lock', '99999999999999999999'], ['lock'], ['-unlock'], ['lock', '']]) {
      const run = await cli(args, env)
      expect([args, run.code, run.stderr]).toEqual([
        args,
        2,
        expect.stringMatching(/^error: ERR_USAGE: /),
      ])
    }
    expect(lockRequests(s)).toEqual([])
  })
})
