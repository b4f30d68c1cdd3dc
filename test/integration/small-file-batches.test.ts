// The small-file path (storage/small-file.ts): many small uploads pipelined on one connection,
// their commits overlapping. A file that fails in the middle of such a run is answered with its
// own error code and the others are stored; nothing is left as a temp file.
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { encodeData, encodeEnd } from '../../src/protocol/index.js'
import {
  canMountTmpfs,
  filesIn,
  mountTmpfs,
  startServer,
  tempDir,
  tempFilesIn,
  TestClient,
  waitFor,
} from '../helpers/index.js'

const sha = (body: Buffer) => createHash('sha256').update(body).digest('hex')
const bodyOf = (i: number, size = 4096) => Buffer.alloc(size, `file ${i} `)

describe('small uploads pipelined on one connection', () => {
  it('a file that cannot be stored mid-run gets its own error; the others are stored', async () => {
    const server = await startServer()
    // A folder where file 20 would go, and a file where file 30's folder would be.
    mkdirSync(path.join(server.root, 'run/f20/inside'), { recursive: true })
    writeFileSync(path.join(server.root, 'run/sub'), 'a file, not a folder')
    const client = await TestClient.connect(server.port)
    const replies = []
    for (let i = 0; i < 60; i++) {
      const body = bodyOf(i)
      if (i === 30) replies.push(client.upload('run/sub/f30', body, { size: body.length }))
      // Announces fewer bytes than it sends, and more: both ERR_INTEGRITY.
      else if (i === 40) replies.push(client.upload(`run/f${i}`, body, { size: 100 }))
      else if (i === 41) replies.push(client.upload(`run/f${i}`, body, { size: body.length + 1 }))
      else replies.push(client.upload(`run/f${i}`, body, { size: body.length }))
    }
    const answers = await Promise.all(replies)
    await client.close()
    expect(answers[20]!.error?.code).toBe('ERR_IS_DIRECTORY')
    expect(answers[30]!.error?.code).toBe('ERR_EXISTS')
    expect(answers[40]!.error?.code).toBe('ERR_INTEGRITY')
    expect(answers[41]!.error?.code).toBe('ERR_INTEGRITY')
    const failed = new Set([20, 30, 40, 41])
    const onDisk = filesIn(server.root)
    for (let i = 0; i < 60; i++) {
      if (failed.has(i)) {
        expect(onDisk.has(`run/f${i}`)).toBe(false)
        continue
      }
      expect(answers[i]!.ok, `file ${i}`).toBe(true)
      expect(answers[i]!.result!.sha256).toBe(sha(bodyOf(i)))
      expect(onDisk.get(`run/f${i}`)?.equals(bodyOf(i)), `file ${i} on disk`).toBe(true)
    }
    expect(tempFilesIn(server.root)).toEqual([])
    await server.stop()
  })

  it('a wrong SHA-256 in the end frame fails that file only', async () => {
    const server = await startServer()
    const client = await TestClient.connect(server.port)
    const good = [client.upload('a', bodyOf(1), { size: 4096 })]
    // A body whose end frame carries another body's hash.
    const bad = client.upload(
      'b',
      { raw: [...encodeData(bodyOf(2)), encodeEnd(Buffer.from(sha(bodyOf(3)), 'hex'))] },
      { size: 4096 },
    )
    good.push(client.upload('c', bodyOf(4), { size: 4096 }))
    const [a, c] = await Promise.all(good)
    expect((await bad).error?.code).toBe('ERR_INTEGRITY')
    expect(a!.ok && c!.ok).toBe(true)
    await client.close()
    expect([...filesIn(server.root).keys()].sort()).toEqual(['a', 'c'])
    expect(tempFilesIn(server.root)).toEqual([])
    await server.stop()
  })
})

describe.skipIf(!canMountTmpfs())('small uploads on a full disk', () => {
  it('the files that do not fit are ERR_NO_SPACE, the ones before them are stored whole', async () => {
    const base = tempDir('tandem-small-full-')
    const root = path.join(base, 'root')
    mkdirSync(root)
    mountTmpfs(root, 1) // 1 MiB: room for well under 400 files of 4 KiB
    const server = await startServer({ root, stateDir: path.join(base, 'state') })
    const client = await TestClient.connect(server.port)
    const replies = []
    for (let i = 0; i < 400; i++)
      replies.push(client.upload(`full/f${i}`, bodyOf(i), { size: 4096 }))
    const answers = await Promise.all(replies)
    await client.close()
    const codes = new Set(answers.filter((a) => !a.ok).map((a) => a.error!.code))
    expect([...codes]).toEqual(['ERR_NO_SPACE'])
    const stored = answers.flatMap((a, i) => (a.ok ? [i] : []))
    expect(stored.length).toBeGreaterThan(10)
    expect(stored.length).toBeLessThan(400)
    const onDisk = filesIn(root)
    for (const i of stored) expect(onDisk.get(`full/f${i}`)?.equals(bodyOf(i))).toBe(true)
    expect(onDisk.size).toBe(stored.length)
    expect(tempFilesIn(root)).toEqual([])
    await server.stop()
  })
})

describe('kill -9 of the server during a run of small uploads', () => {
  it('every answered file survives whole; nothing torn, no temp file after the restart', async () => {
    const server = await startServer()
    const client = await TestClient.connect(server.port)
    const answered: number[] = []
    const replies = []
    for (let i = 0; i < 3000; i++) {
      replies.push(
        client
          .upload(`kill/f${i}`, bodyOf(i, 4096 + (i % 7)), { size: 4096 + (i % 7) })
          .then((reply) => {
            if (reply.ok) answered.push(i)
            return reply
          }),
      )
    }
    await waitFor(() => answered.length >= 200, { timeoutMs: 60_000, what: '200 answers' })
    await server.kill9()
    const acked = [...answered]
    await Promise.all(replies)
    await client.close()
    const next = await server.restart()
    expect(tempFilesIn(next.root)).toEqual([])
    const onDisk = filesIn(next.root)
    for (const i of acked) expect(onDisk.has(`kill/f${i}`), `answered file ${i}`).toBe(true)
    // Every file there is whole: an answered one or not, never a part of one.
    for (const [name, body] of onDisk) {
      const i = Number(name.slice('kill/f'.length))
      expect(body.equals(bodyOf(i, 4096 + (i % 7))), name).toBe(true)
    }
    expect(acked.length).toBeLessThan(3000)
    const reader = await TestClient.connect(next.port)
    const names = (await reader.list()).result!.files.map((f) => f.name)
    await reader.close()
    expect(names.filter((n) => n.includes('.tandem-tmp-'))).toEqual([])
    expect(readFileSync(path.join(next.root, `kill/f${acked[0]}`)).length).toBeGreaterThan(4095)
    await next.stop()
  }, 180_000)
})
