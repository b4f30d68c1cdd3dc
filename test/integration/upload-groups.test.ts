// Many small uploads with request ids pipelined on one connection, as `tandem put` of a folder
// sends them: their rid records (and, in the session worker, their publication) are grouped, and
// each file must still keep its own answer, in request order, its own error, exactly-once and
// durability. Real server processes and sockets.
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  filesIn,
  startServer,
  tempFilesIn,
  TestClient,
  waitFor,
  type Reply,
} from '../helpers/index.js'

const sha = (body: Buffer) => createHash('sha256').update(body).digest('hex')
const bodyOf = (i: number, size = 4096) => Buffer.alloc(size, `file ${i} `)
const name = (i: number) => `run/f${String(i).padStart(4, '0')}`

/** Upload files `from`…`to - 1` pipelined with rids `CLIENT:i`; the arrival order of answers. */
function pipeline(client: TestClient, clientId: string, from: number, to: number) {
  const order: number[] = []
  const replies: Promise<Reply>[] = []
  for (let i = from; i < to; i++) {
    const body = bodyOf(i)
    const reply = client.call(
      'upload',
      { name: name(i), size: body.length, rid: `${clientId}:${i}` },
      body,
    )
    void reply.then(() => order.push(i))
    replies.push(reply)
  }
  return { order, replies }
}

/** How many upload entries the change log holds for `n`. */
async function uploadsLogged(client: TestClient, n: string): Promise<number> {
  const log = await client.log({ limit: 10_000 })
  const entries = (log.result as { entries: { op: string; name: string | null }[] }).entries
  return entries.filter((e) => e.op === 'upload' && e.name === n).length
}

describe('small uploads with request ids, pipelined', () => {
  it('answers in request order; a file locked by another client fails alone; the rest land', async () => {
    const server = await startServer()
    const other = await TestClient.connect(server.port, { clientId: 'someone-else' })
    expect((await other.upload(name(37), Buffer.from('theirs'))).ok).toBe(true)
    expect((await other.call('lock', { name: name(37) })).ok).toBe(true)
    const client = await TestClient.connect(server.port, { clientId: 'grouper' })
    const { order, replies } = pipeline(client, 'grouper', 0, 300)
    const answers = await Promise.all(replies)
    expect(order).toEqual([...Array(300).keys()])
    expect(answers[37]!.error?.code).toBe('ERR_LOCKED')
    const onDisk = filesIn(server.root)
    expect(onDisk.get(name(37))?.toString()).toBe('theirs')
    for (let i = 0; i < 300; i++) {
      if (i === 37) continue
      expect(answers[i]!.ok, `file ${i}: ${JSON.stringify(answers[i]!.error)}`).toBe(true)
      expect(answers[i]!.result).toMatchObject({
        name: name(i),
        size: 4096,
        sha256: sha(bodyOf(i)),
      })
      expect(onDisk.get(name(i))?.equals(bodyOf(i)), `file ${i} on disk`).toBe(true)
    }
    // The refused one was not recorded: once the lock is gone, its replay applies.
    expect((await other.call('unlock', { name: name(37) })).ok).toBe(true)
    const again = await client.call(
      'upload',
      { name: name(37), size: 4096, rid: 'grouper:37' },
      bodyOf(37),
    )
    expect(again.ok, JSON.stringify(again.error)).toBe(true)
    expect(filesIn(server.root).get(name(37))?.equals(bodyOf(37))).toBe(true)
    expect(tempFilesIn(server.root)).toEqual([])
    await Promise.all([client.close(), other.close()])
    await server.stop()
  })

  it('a rid sent twice in one run, and again after a reconnect, applies once with one answer', async () => {
    const server = await startServer()
    const client = await TestClient.connect(server.port, { clientId: 'twice' })
    expect((await client.upload('log.txt', Buffer.from('start\n'))).ok).toBe(true)
    const replies: Promise<Reply>[] = []
    for (let i = 0; i < 100; i++) {
      const body = bodyOf(i)
      const rid = `twice:${i}`
      replies.push(client.call('upload', { name: name(i), size: body.length, rid }, body))
      // An append is not idempotent: applied twice, the line would be there twice.
      if (i % 10 === 5) {
        for (let k = 0; k < 2; k++)
          replies.push(
            client.call(
              'append',
              { name: 'log.txt', rid: `twice:${1000 + i}` },
              Buffer.from(`${i}\n`),
            ),
          )
      }
      // The same upload again, right behind it (the same group, most likely).
      if (i % 10 === 7)
        replies.push(client.call('upload', { name: name(i), size: body.length, rid }, body))
    }
    const answers = await Promise.all(replies)
    for (const a of answers) expect(a.ok, JSON.stringify(a.error)).toBe(true)
    const lines = ['start', ...[5, 15, 25, 35, 45, 55, 65, 75, 85, 95].map(String)]
    expect(filesIn(server.root).get('log.txt')?.toString()).toBe(`${lines.join('\n')}\n`)
    // Each pair answered alike.
    const byRid = new Map<string, Reply[]>()
    let at = 0
    for (let i = 0; i < 100; i++) {
      const push = (rid: string) => byRid.set(rid, [...(byRid.get(rid) ?? []), answers[at++]!])
      push(`twice:${i}`)
      if (i % 10 === 5) for (let k = 0; k < 2; k++) push(`twice:${1000 + i}`)
      if (i % 10 === 7) push(`twice:${i}`)
    }
    for (const [rid, pair] of byRid) if (pair.length === 2) expect(pair[1], rid).toEqual(pair[0])
    expect(await uploadsLogged(client, name(17))).toBe(1)
    await client.close()

    // A reconnect replays the whole run: every answer is the original one, nothing applies again.
    const again = await TestClient.connect(server.port, { clientId: 'twice' })
    for (let i = 0; i < 100; i++) {
      const body = bodyOf(i)
      const reply = await again.call(
        'upload',
        { name: name(i), size: body.length, rid: `twice:${i}` },
        body,
      )
      expect(reply, `file ${i}`).toEqual(byRid.get(`twice:${i}`)![0])
    }
    const append = await again.call(
      'append',
      { name: 'log.txt', rid: 'twice:1025' },
      Buffer.from('25\n'),
    )
    expect(append).toEqual(byRid.get('twice:1025')![0])
    expect(filesIn(server.root).get('log.txt')?.toString()).toBe(`${lines.join('\n')}\n`)
    for (const i of [0, 17, 99]) expect(await uploadsLogged(again, name(i))).toBe(1)
    await again.close()
    await server.stop()
  })

  for (const stop of ['SIGKILL', 'SIGTERM'] as const) {
    it(`a ${stop} in the middle of a run: every acknowledged file is whole after the restart`, async () => {
      const server = await startServer()
      const client = await TestClient.connect(server.port, { clientId: 'stopped' })
      const { replies } = pipeline(client, 'stopped', 0, 2_000)
      const acked = new Map<number, Reply>()
      replies.forEach((r, i) => void r.then((a) => a.ok && acked.set(i, a)))
      await waitFor(() => acked.size >= 150 || undefined, {
        timeoutMs: 60_000,
        intervalMs: 2,
        what: '150 answers',
      })
      if (stop === 'SIGKILL') await server.kill9()
      else await server.stop('SIGTERM')
      await Promise.all(replies)
      expect(acked.size).toBeLessThan(2_000) // stopped in the middle
      const next = await server.restart()
      expect(tempFilesIn(next.root)).toEqual([])
      const onDisk = filesIn(next.root)
      for (const i of acked.keys())
        expect(onDisk.get(name(i))?.equals(bodyOf(i)), `acknowledged file ${i}`).toBe(true)
      // A file on disk that was not acknowledged is whole too (published, then the stop).
      for (const [n, content] of onDisk) {
        const i = Number(n.slice('run/f'.length))
        expect(content.equals(bodyOf(i)), n).toBe(true)
      }
      // Replayed after the restart: the acknowledged ones answer as they did and do not apply again.
      const again = await TestClient.connect(next.port, { clientId: 'stopped' })
      for (const i of [...acked.keys()].slice(-20)) {
        // (Its log entry may have been lost with a kill -9 after the answer; none is added.)
        const logged = await uploadsLogged(again, name(i))
        const reply = await again.call(
          'upload',
          { name: name(i), size: 4096, rid: `stopped:${i}` },
          bodyOf(i),
        )
        expect(reply, `file ${i}`).toEqual(acked.get(i))
        expect(await uploadsLogged(again, name(i))).toBe(logged)
      }
      await again.close()
      await next.stop()
    })
  }
})
