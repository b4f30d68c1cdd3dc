// Promises found broken in review, each with the test that tries to break it again: a client that
// never closes after an error, symlink aliases racing, rm of a link, FIFOs, file modes, answer
// order after an early error.
import { execFileSync } from 'node:child_process'
import {
  chmodSync,
  existsSync,
  lstatSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { rawConnect, startServer, TestClient, waitFor } from '../helpers/index.js'

describe('connections the server closed', () => {
  it('free their slot even when the client never closes its side', async () => {
    const server = await startServer({ maxClients: 1 })
    // allowHalfOpen: our side stays open after the server's FIN, as a hung client's would.
    const rude = net.connect({ port: server.port, host: '127.0.0.1', allowHalfOpen: true })
    rude.on('error', () => undefined)
    let answered = ''
    rude.on('data', (chunk: Buffer) => (answered += chunk.toString('latin1')))
    rude.write('GARBAGE!') // answered ERR_BAD_FRAME; we never close
    await waitFor(() => answered.includes('ERR_BAD_FRAME'), { what: 'the ERR_BAD_FRAME answer' })
    // The slot comes back although this socket stays open on our side.
    await waitFor(
      async () => {
        const outcome = await TestClient.tryConnect(server.port)
        await outcome.client?.close()
        return outcome.client !== undefined
      },
      {
        timeoutMs: 10_000,
        what: 'the slot to be freed',
      },
    )
    rude.destroy()
  })
})

describe('answers stay in request order', () => {
  it('an early error waits for the uploads before it', async () => {
    const server = await startServer()
    const conn = await rawConnect(server.port)
    await conn.sendPreamble()
    await conn.sendControl({ type: 'hello', role: 'client', id: 'order' })
    for (let id = 1; id <= 20; id++) {
      await conn.sendControl({ id, op: 'upload', name: `order/${id}.txt` })
      await conn.sendBody(Buffer.from(`file ${id}`))
    }
    await conn.sendControl({ id: 21, op: 'no-such-op' })
    const ids: number[] = []
    while (ids.length < 21) {
      const message = await conn.nextControl(10_000)
      if (message.type === 'response') ids.push(message.id as number)
    }
    expect(ids).toEqual(Array.from({ length: 21 }, (_, i) => i + 1))
    conn.destroy()
  })
})

describe('symlinks inside the root', () => {
  it('appends through a link and through its target never lose one another', async () => {
    const server = await startServer()
    writeFileSync(path.join(server.root, 'real.txt'), '')
    symlinkSync('real.txt', path.join(server.root, 'alias.txt'))
    const [a, b] = await Promise.all([
      TestClient.connect(server.port),
      TestClient.connect(server.port),
    ])
    const lines: string[] = []
    const work: Promise<unknown>[] = []
    for (let i = 0; i < 40; i++) {
      lines.push(`a${i}\n`, `b${i}\n`)
      work.push(
        a.append('alias.txt', Buffer.from(`a${i}\n`)),
        b.append('real.txt', Buffer.from(`b${i}\n`)),
      )
    }
    const replies = (await Promise.all(work)) as { ok: boolean }[]
    expect(replies.every((r) => r.ok)).toBe(true)
    const content = readFileSync(path.join(server.root, 'real.txt'), 'utf8')
    for (const line of lines) expect(content.split('\n')).toContain(line.trim())
    await Promise.all([a.close(), b.close()])
  })

  it('rm of a link removes the link, not its target', async () => {
    const server = await startServer()
    writeFileSync(path.join(server.root, 'target.txt'), 'keep me')
    symlinkSync('target.txt', path.join(server.root, 'link.txt'))
    const client = await TestClient.connect(server.port)
    expect((await client.delete('link.txt')).ok).toBe(true)
    expect(existsSync(path.join(server.root, 'target.txt'))).toBe(true)
    expect(lstatSync(path.join(server.root, 'link.txt'), { throwIfNoEntry: false })).toBeUndefined()
    await client.close()
  })
})

describe('special files and modes', () => {
  it('a FIFO is refused at once and the server keeps serving', async () => {
    const server = await startServer()
    execFileSync('mkfifo', [path.join(server.root, 'pipe')])
    const client = await TestClient.connect(server.port)
    const replies = await Promise.all(Array.from({ length: 6 }, () => client.download('pipe')))
    for (const reply of replies) expect(reply.error?.code).toBe('ERR_BAD_PATH')
    expect((await client.upload('after.txt', Buffer.from('still here'))).ok).toBe(true)
    await client.close()
  })

  it('replacing a 0600 file keeps it 0600', async () => {
    const server = await startServer()
    const file = path.join(server.root, 'secret.txt')
    writeFileSync(file, 'old')
    chmodSync(file, 0o600)
    const client = await TestClient.connect(server.port)
    expect((await client.upload('secret.txt', Buffer.from('new'))).ok).toBe(true)
    expect((await client.write('secret.txt', Buffer.from('newer'))).ok).toBe(true)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(readFileSync(file, 'utf8')).toBe('newer')
    await client.close()
  })
})
