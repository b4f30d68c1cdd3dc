// Edge cases around folders, slow peers and clients that do not read.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { encodeData, encodeEnd } from '../../src/protocol/index.js'
import {
  rawConnect,
  startServer,
  TestClient,
  waitFor,
  type ServerHandle,
} from '../helpers/index.js'

describe('folders and files', () => {
  let server: ServerHandle
  let client: TestClient
  beforeAll(async () => {
    server = await startServer()
    client = await TestClient.connect(server.port)
  })

  it('a name whose parent is a file is refused with a clear code, not ERR_INTERNAL', async () => {
    expect((await client.upload('plain', Buffer.from('p'))).ok).toBe(true)
    const replies = await Promise.all([
      client.upload('plain/child.txt', Buffer.from('c')),
      client.download('plain/child.txt'),
      client.rename('plain', 'plain/inside'),
    ])
    for (const reply of replies) expect(reply.ok).toBe(false)
    for (const reply of replies) expect(reply.error?.code).not.toBe('ERR_INTERNAL')
    expect(readFileSync(path.join(server.root, 'plain'), 'utf8')).toBe('p')
  })

  it('file operations on a folder name give ERR_IS_DIRECTORY (a rename moves the folder)', async () => {
    expect((await client.upload('folder/x.txt', Buffer.from('x'))).ok).toBe(true)
    const replies = await Promise.all([
      client.download('folder'),
      client.stat('folder'),
      client.delete('folder'),
      client.upload('folder', Buffer.from('y')),
      client.append('folder', Buffer.from('y')),
      client.write('folder', Buffer.from('y')),
      client.create('folder', Buffer.from('y')),
    ])
    // create may also say the name exists, which it does.
    const codes = replies.map((r, i) =>
      i === 6 && r.error?.code === 'ERR_EXISTS' ? 'ERR_IS_DIRECTORY' : r.error?.code,
    )
    expect(codes).toEqual(replies.map(() => 'ERR_IS_DIRECTORY'))
    expect(readFileSync(path.join(server.root, 'folder/x.txt'), 'utf8')).toBe('x')
    // A rename is the one operation that acts on a folder as a whole.
    expect((await client.rename('folder', 'moved')).ok).toBe(true)
    expect(readFileSync(path.join(server.root, 'moved/x.txt'), 'utf8')).toBe('x')
  })
})

describe('folders that come and go under concurrent writers', () => {
  it('writing into a folder while another client empties it never fails spuriously', async () => {
    const server = await startServer()
    const [a, b] = await Promise.all([
      TestClient.connect(server.port),
      TestClient.connect(server.port),
    ])
    const problems: string[] = []
    // Each client writes its own file into the shared folder and removes it again: whenever one
    // removes the folder's last file, the folder is pruned while the other may be writing into it.
    const churn = async (client: TestClient, who: string) => {
      for (let i = 0; i < 150; i++) {
        const name = `shared/deep/${who}.txt`
        const up = await client.upload(name, Buffer.from(`${who} ${i}`))
        if (!up.ok) problems.push(`${who} upload ${i}: ${up.error?.code}`)
        const moved = await client.rename(name, `shared/other/${who}.txt`)
        if (!moved.ok) problems.push(`${who} rename ${i}: ${moved.error?.code}`)
        const gone = await client.delete(`shared/other/${who}.txt`)
        if (!gone.ok) problems.push(`${who} delete ${i}: ${gone.error?.code}`)
      }
    }
    await Promise.all([churn(a, 'a'), churn(b, 'b')])
    expect(problems.slice(0, 10)).toEqual([])
    await Promise.all([a.close(), b.close()])
  }, 120_000)
})

const MiB = 1024 * 1024

/** Resident memory of a process, in MiB (Linux). */
function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return match ? Number(match[1]) / 1024 : NaN
}

describe('slow and stubborn clients', () => {
  let server: ServerHandle
  beforeAll(async () => {
    server = await startServer({ extraArgs: ['--idle-timeout-ms', '1000'] })
    const client = await TestClient.connect(server.port)
    expect((await client.upload('big.bin', Buffer.alloc(48 * MiB, 'slow'))).ok).toBe(true)
    expect((await client.upload('one-mib.bin', Buffer.alloc(1024 * 1024, 'm'))).ok).toBe(true)
    await client.close()
  })

  it('a download read slowly for longer than the idle timeout is not cut off', async () => {
    const conn = await rawConnect(server.port)
    await conn.sendPreamble()
    await conn.sendControl({ type: 'hello', role: 'client', id: 'slow-reader' })
    expect((await conn.nextControl()).type).toBe('welcome')
    // Read at 16 MiB/s (the client sends nothing meanwhile) until the rest fits in the loopback
    // buffers, then read freely: the server keeps sending for longer than its idle timeout, and
    // the tail sitting in kernel buffers is not mistaken for a stalled reader.
    let received = 0
    conn.socket.on('data', (chunk: Buffer) => (received += chunk.length))
    const started = Date.now()
    const pacer = setInterval(() => {
      const budget = ((Date.now() - started) / 1000) * 16 * MiB
      if (received < 24 * MiB && received > budget) conn.socket.pause()
      else conn.socket.resume()
    }, 10)
    try {
      await conn.sendControl({ id: 1, op: 'download', name: 'big.bin' })
      await waitFor(() => conn.frames.some((f) => f.kind === 'end') || conn.isClosed, {
        timeoutMs: 30_000,
        what: 'the end of the download',
      })
    } finally {
      clearInterval(pacer)
      conn.socket.resume()
    }
    expect(Date.now() - started).toBeGreaterThan(1_000)
    const errors = conn.frames.filter((f) => f.kind === 'control' && f.message.type === 'error')
    expect(errors).toEqual([])
    const bytes = conn.frames.reduce((sum, f) => sum + (f.kind === 'data' ? f.bytes.length : 0), 0)
    expect(bytes).toBe(48 * MiB)
    conn.destroy()
  })

  it('an upload sent slowly for longer than the idle timeout completes', async () => {
    const conn = await rawConnect(server.port)
    await conn.sendPreamble()
    await conn.sendControl({ type: 'hello', role: 'client', id: 'slow-writer' })
    expect((await conn.nextControl()).type).toBe('welcome')
    await conn.sendControl({ id: 1, op: 'upload', name: 'trickle.bin' })
    const body = Buffer.alloc(12 * 64 * 1024, 't')
    for (let offset = 0; offset < body.length; offset += 64 * 1024) {
      await conn.send(...encodeData(body.subarray(offset, offset + 64 * 1024)))
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    await conn.send(encodeEnd(createHash('sha256').update(body).digest()))
    const answer = await conn.nextControl()
    expect(answer).toMatchObject({ type: 'response', id: 1, ok: true })
    conn.destroy()
  })

  it('a client that pipelines downloads and never reads cannot make the server hoard memory', async () => {
    const bystander = await TestClient.connect(server.port)
    const before = rssMiB(server.proc.pid!)
    const conn = await rawConnect(server.port)
    await conn.sendPreamble()
    await conn.sendControl({ type: 'hello', role: 'client', id: 'hoarder' })
    expect((await conn.nextControl()).type).toBe('welcome')
    conn.socket.pause()
    // 400 MiB asked for, none read.
    for (let id = 1; id <= 400; id++)
      await conn.sendControl({ id, op: 'download', name: 'one-mib.bin' })
    let peak = before
    const until = Date.now() + 3_000
    while (Date.now() < until) {
      peak = Math.max(peak, rssMiB(server.proc.pid!))
      expect((await bystander.call('ping')).ok).toBe(true)
    }
    expect(peak - before).toBeLessThan(150)
    conn.destroy()
    await bystander.close()
  })
})
