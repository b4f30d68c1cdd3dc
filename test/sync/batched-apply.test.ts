// The applier publishes a burst of small files in groups (one lock request, one directory fsync
// per folder, one index transaction per group: sync/group-commit.ts). One file of a group that
// cannot be applied must not take the others with it. A peer 'F' announces 300 small files in one
// message and serves them, except that one body does not match its SHA-256, and one name is a
// folder at A: the other 298 arrive, the bad one is not stored (no file, no temp file left), the
// clash keeps the file beside the folder as usual; F's corrected version then arrives too.
import { createHash } from 'node:crypto'
import fs from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import type { FramedSocket } from '../../src/server/sync/framed-socket.js'
import { tempFilesIn, waitFor } from '../helpers/index.js'
import { serverFollowing, startFakePeer } from '../helpers/fake-peer.js'

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')
const COUNT = 300
const MTIME = Date.parse('2026-01-02T03:04:05Z')

interface Version {
  name: string
  body: Buffer
  /** What F serves for it (the body, unless it lies). */
  served: Buffer
  seq: number
  counter: number
}

function entryOf(v: Version): Record<string, unknown> {
  return {
    name: v.name,
    size: v.body.length,
    mtime: MTIME,
    hash: sha(v.body),
    deleted: false,
    version: { F: v.counter },
    origin: 'F',
    seq: v.seq,
    renamedFrom: null,
  }
}

describe('a burst applied in groups', () => {
  it('one bad body and one name taken by a folder do not stop the other files', async () => {
    const versions = new Map<string, Version>()
    for (let i = 0; i < COUNT; i++) {
      const name = `burst/f${String(i).padStart(3, '0')}.txt`
      const body = Buffer.from(`file ${i} `.repeat(20 + (i % 50)))
      versions.set(name, { name, body, served: body, seq: i + 1, counter: 1 })
    }
    const bad = versions.get('burst/f007.txt')!
    bad.served = Buffer.from(bad.body).fill(0x41, 0, 5) // same size, other bytes
    const clash = versions.get('burst/f123.txt')!
    let seq = COUNT
    let index: FramedSocket | undefined

    const f = await startFakePeer({
      onExchange(framed, m) {
        if (m['type'] === 'peer-hello') {
          framed.send({ type: 'peer-welcome', server: 'F', epoch: 'f-epoch', time: Date.now() })
          if (m['channel'] === 'index') {
            index = framed
            f.every(300, () => framed.send({ type: 'heartbeat', time: Date.now(), seq }))
          }
          return
        }
        if (m['type'] === 'subscribe') {
          framed.send({
            type: 'entries',
            epoch: 'f-epoch',
            seq,
            entries: [...versions.values()].map(entryOf),
          })
          return
        }
        if (m['type'] === 'fetch') void serve(framed, m)
      },
    })
    // Answers in order, as a real content channel does (the frames of one answer back to back).
    let order = Promise.resolve()
    const serve = (framed: FramedSocket, m: Record<string, unknown>): void => {
      const v = versions.get(String(m['name']))
      order = order.then(async () => {
        if (!v || sha(v.body) !== m['hash']) {
          framed.send({
            type: 'content',
            id: m['id'],
            ok: false,
            error: { code: 'ERR_NOT_FOUND', message: 'no such content' },
          })
          return
        }
        framed.send({ type: 'content', id: m['id'], ok: true, size: v.body.length, mtime: MTIME })
        await framed.sendData(v.served)
        framed.sendEnd(createHash('sha256').update(v.served).digest())
      })
    }

    const a = await serverFollowing(f)
    await fs.mkdir(a.file(clash.name), { recursive: true }) // a folder where F has a file
    await a.start()

    const arrived = async (v: Version): Promise<boolean> =>
      fs.readFile(a.file(v.name)).then(
        (b) => b.equals(v.body),
        () => false,
      )
    const others = [...versions.values()].filter((v) => v !== bad && v !== clash)
    await waitFor(async () => (await Promise.all(others.map(arrived))).every(Boolean), {
      timeoutMs: 30_000,
      intervalMs: 50,
      what: `the ${others.length} good files at A`,
    })
    // The folder wins; F's file is kept beside it as its conflict copy.
    await waitFor(
      async () =>
        (await fs.readdir(a.file('burst'))).some((n) => n.startsWith('f123.sync-conflict-')),
      { timeoutMs: 10_000, what: 'the clash kept as a conflict copy' },
    )
    expect((await fs.stat(a.file(clash.name))).isDirectory()).toBe(true)
    // The body that did not match its hash was not stored, and left no temp file.
    await expect(fs.stat(a.file(bad.name))).rejects.toMatchObject({ code: 'ENOENT' })
    expect(tempFilesIn(a.root)).toEqual([])

    // F corrects it (a new version, as a real peer announces the file it really has).
    bad.body = Buffer.from('the corrected content')
    bad.served = bad.body
    bad.seq = ++seq
    bad.counter = 2
    index?.send({ type: 'entries', epoch: 'f-epoch', seq, entries: [entryOf(bad)] })
    await waitFor(() => arrived(bad), { timeoutMs: 15_000, what: 'the corrected file at A' })
    expect(tempFilesIn(a.root)).toEqual([])
  }, 60_000)
})
