// Failover through the real CLI against hand-made servers (fake-server.ts) that can be lost at a
// chosen instant: between a request and its answer, or in the middle of a batch. What each saw
// is recorded, so the tests check the request ids of replays and which files went where.
import net from 'node:net'
import path from 'node:path'
import fs from 'node:fs/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { ridSchema } from '../../src/protocol/index.js'
import { tempDir } from '../helpers/index.js'
import { startFakeServer, type FakeServer, type FakeServerOptions } from './fake-server.js'
import { errorCode, runCli } from './run-cli.js'

const CLIENT = 'failover-client'
const servers: FakeServer[] = []

afterEach(async () => {
  for (const server of servers.splice(0)) await server.close().catch(() => undefined)
})

async function fake(options: FakeServerOptions = {}): Promise<FakeServer & { address: string }> {
  const server = await startFakeServer(options)
  servers.push(server)
  return Object.assign(server, { address: `127.0.0.1:${server.port}` })
}

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<string> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return `127.0.0.1:${port}`
}

function tandem(serverList: string, args: string[]) {
  const env = { TANDEM_CLIENT_ID: CLIENT, XDG_CONFIG_HOME: tempDir('tandem-cli-config-') }
  return runCli(['--server', serverList, ...args], { env })
}

/** The control messages of one op a fake server received. */
function requests(server: FakeServer, op: string): Record<string, unknown>[] {
  return server.received.flatMap((r) =>
    r.kind === 'control' && r.message.op === op ? [r.message] : [],
  )
}

function hellos(server: FakeServer): number {
  return server.received.filter((r) => r.kind === 'control' && r.message.type === 'hello').length
}

describe('failover: a replay after the server was lost between request and answer', () => {
  it('append moves to the next server with the same request id, and lands there once', async () => {
    const a = await fake({ dropOn: { ops: ['append'] } })
    const b = await fake()
    const run = await tandem(`${a.address},${b.address}`, [
      'append',
      'notes.txt',
      '--text',
      'one line\n',
    ])
    expect(run.stderr).toBe(
      `lost the server at ${a.address} (connection to ${a.address} closed); continuing on ${b.address}\n`,
    )
    expect(run.code).toBe(0)
    const [sent] = requests(a, 'append')
    const [replayed] = requests(b, 'append')
    expect(sent?.rid).toBeTypeOf('string')
    expect(ridSchema.safeParse(sent?.rid).success).toBe(true)
    expect(String(sent?.rid).startsWith(`${CLIENT}:`)).toBe(true)
    expect(replayed?.rid).toBe(sent?.rid)
    expect(b.files.get('notes.txt')?.toString()).toBe('one line\n')
  })

  it('every mutating request carries a rid, and two requests never share one', async () => {
    const a = await fake()
    await tandem(a.address, ['write', 'w.txt', '--text', 'x'])
    await tandem(a.address, ['append', 'w.txt', '--text', 'y'])
    await tandem(a.address, ['mv', 'w.txt', 'v.txt'])
    await tandem(a.address, ['rm', 'v.txt'])
    const rids = ['write', 'append', 'rename', 'delete'].map((op) => requests(a, op)[0]?.rid)
    for (const rid of rids) expect(ridSchema.safeParse(rid).success).toBe(true)
    expect(new Set(rids).size).toBe(4)
    // Read-only requests carry none.
    expect(requests(a, 'list').every((r) => r.rid === undefined)).toBe(true)
  })

  it('a batch continues with the file in flight: files stored before the loss are not sent again', async () => {
    const a = await fake({ dropOn: { ops: ['upload'], nth: 2 } })
    const b = await fake()
    const dir = tempDir('tandem-failover-batch-')
    for (const n of ['1', '2', '3']) await fs.writeFile(path.join(dir, `f${n}.txt`), `file ${n}\n`)
    const locals = ['1', '2', '3'].map((n) => path.join(dir, `f${n}.txt`))
    const run = await tandem(`${a.address},${b.address}`, ['--json', 'put', ...locals, 'docs/'])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toContain(`continuing on ${b.address}`)
    expect([...a.files.keys()]).toEqual(['docs/f1.txt'])
    expect([...b.files.keys()].sort()).toEqual(['docs/f2.txt', 'docs/f3.txt'])
    // The replay of f2 carries the rid A saw for it.
    const ridAt = (s: FakeServer, name: string) =>
      requests(s, 'upload').find((r) => r.name === name)?.rid
    expect(ridAt(b, 'docs/f2.txt')).toBe(ridAt(a, 'docs/f2.txt'))
    const printed = JSON.parse(run.stdout.toString()) as { files: { name: string }[] }
    expect(printed.files.map((f) => f.name).sort()).toEqual([
      'docs/f1.txt',
      'docs/f2.txt',
      'docs/f3.txt',
    ])
  })
})

describe('failover: a folder get continues with the file in flight', () => {
  it('files fetched before the loss are kept; the rest come from the next server', async () => {
    const a = await fake({ dropOn: { ops: ['download'], nth: 2 } })
    const b = await fake()
    for (const server of [a, b])
      for (const n of ['1', '2', '3']) server.files.set(`d/f${n}.txt`, Buffer.from(`file ${n}\n`))
    const dest = path.join(tempDir('tandem-failover-get-batch-'), 'out')
    const run = await tandem(`${a.address},${b.address}`, ['get', 'd', dest])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toContain(`continuing on ${b.address}`)
    const asked = (s: FakeServer) => requests(s, 'download').map((r) => String(r.name))
    // The three are asked for concurrently, in no set order: A answered the first it was asked
    // for and dropped the connection at the second (the third may have reached it too).
    const answered = asked(a)[0]!
    expect(asked(b)).not.toContain(answered)
    expect([...asked(b)].sort()).toEqual(
      ['d/f1.txt', 'd/f2.txt', 'd/f3.txt'].filter((n) => n !== answered),
    )
    for (const n of ['1', '2', '3'])
      expect(await fs.readFile(path.join(dest, `f${n}.txt`), 'utf8')).toBe(`file ${n}\n`)
  })
})

describe('failover: a server that stops answering', () => {
  it('a download stalled mid-body (no byte for TANDEM_STALL_TIMEOUT) moves to the next server', async () => {
    const content = Buffer.alloc(3 * 1024 * 1024, 7)
    const a = await fake({ stallDownloadAfter: 1024 * 1024 })
    const b = await fake()
    a.files.set('f.bin', content)
    b.files.set('f.bin', content)
    const out = path.join(tempDir('tandem-failover-stall-'), 'f.bin')
    const env = {
      TANDEM_CLIENT_ID: CLIENT,
      XDG_CONFIG_HOME: tempDir('tandem-cli-config-'),
      TANDEM_STALL_TIMEOUT: '1',
    }
    const run = await runCli(['--server', `${a.address},${b.address}`, 'get', 'f.bin', out], {
      env,
    })
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toBe(
      `lost the server at ${a.address} (no answer from ${a.address} in 1 s); continuing on ${b.address}\n`,
    )
    expect((await fs.readFile(out)).equals(content)).toBe(true)
  })
})

describe('failover: a server that is stopping', () => {
  it('ERR_SHUTTING_DOWN as the answer moves the request, with its rid, to the next server', async () => {
    const stopping = { code: 'ERR_SHUTTING_DOWN', message: 'the server is stopping' } as const
    const a = await fake({ failOps: { write: stopping } })
    const b = await fake()
    const run = await tandem(`${a.address},${b.address}`, ['write', 'w.txt', '--text', 'new'])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toContain(`(the server is stopping); continuing on ${b.address}`)
    expect(requests(b, 'write')[0]?.rid).toBe(requests(a, 'write')[0]?.rid)
    expect(b.files.get('w.txt')?.toString()).toBe('new')
  })
})

describe('failover: what does not move', () => {
  it('an answer that is an error (ERR_LOCKED) is reported; the other server is never contacted', async () => {
    const a = await fake({
      failOps: { append: { code: 'ERR_LOCKED', message: "'n.txt' is locked" } },
    })
    const b = await fake()
    const run = await tandem(`${a.address},${b.address}`, ['append', 'n.txt', '--text', 'x'])
    expect(run.code).toBe(1)
    expect(errorCode(run)).toBe('ERR_LOCKED')
    expect(run.stderr).not.toContain('lost the server')
    expect(hellos(b)).toBe(0)
  })

  it('a request-level ERR_TIMEOUT (a lock wait) is an answer too', async () => {
    const a = await fake({
      failOps: { delete: { code: 'ERR_TIMEOUT', message: 'waited 10 s for a lock' } },
    })
    const b = await fake()
    const run = await tandem(`${a.address},${b.address}`, ['rm', 'x.txt'])
    expect(errorCode(run)).toBe('ERR_TIMEOUT')
    expect(hellos(b)).toBe(0)
  })

  it('one server only: a lost server fails the command as before (no replay)', async () => {
    const a = await fake({ dropOn: { ops: ['append'] } })
    const run = await tandem(a.address, ['append', 'n.txt', '--text', 'x'])
    expect(errorCode(run)).toBe('ERR_CONNECTION_CLOSED')
    expect(requests(a, 'append')).toHaveLength(1)
  })
})

describe('failover: no server left', () => {
  it('every server down at the start: ERR_UNREACHABLE naming each with its reason', async () => {
    const [p, q] = [await closedPort(), await closedPort()]
    const run = await tandem(`${p},${q}`, ['ls'])
    expect(run.code).toBe(1)
    expect(errorCode(run)).toBe('ERR_UNREACHABLE')
    expect(run.stderr).toContain(
      `cannot reach any of the 2 servers: ${p} (connection refused), ${q} (connection refused)`,
    )
  })

  it('the server lost and the others down: ERR_UNREACHABLE after trying each, the lost one last', async () => {
    // A is gone for good once it dropped the append (it stops listening too).
    const a: FakeServer = await fake({ dropOn: { ops: ['append'], then: () => void a.close() } })
    const address = `127.0.0.1:${a.port}`
    const q = await closedPort()
    const run = await tandem(`${address},${q}`, ['append', 'n.txt', '--text', 'x'])
    expect(errorCode(run)).toBe('ERR_UNREACHABLE')
    expect(run.stderr).toContain(
      `lost the server at ${address} (connection to ${address} closed), and then cannot reach any of the 2 servers: ${q} (connection refused), ${address} (connection refused)`,
    )
  })
})
