// Partial replication in the operations layer: a name the index lists live with no copy on this
// disk (held at other members) is answered ERR_MOVED with its holders by every operation that
// needs its content, is ERR_EXISTS to a create and a rename onto it, is replaced here by a write,
// and is carried index-only by a folder's delete and rename (the sync worker records those names).
import { describe, expect, it } from 'vitest'
import { TandemError, type Holder } from '../../src/protocol/index.js'
import { remove, rename } from '../../src/server/ops/files.js'
import { list, stat } from '../../src/server/ops/listing.js'
import { openFile } from '../../src/server/ops/read.js'
import { lock, unlock } from '../../src/server/ops/user-locks.js'
import { waitFor } from '../helpers/index.js'
import { createOpsHarness, runBody } from '../helpers/ops-harness.js'

const B: Holder = { name: 'B', address: '127.0.0.1:9002', http: '127.0.0.1:9082' }
const C: Holder = { name: 'C', address: '127.0.0.1:9003' }

/** The error a promise rejects with ({ code, holders }), or 'ok'. */
async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => 'ok',
    (err: { code?: string; holders?: Holder[]; message?: string }) => ({
      code: err.code,
      holders: err.holders,
      message: err.message,
    }),
  )
}

/** A harness whose index lists `names` as held at B and C only. */
function withElsewhere(...names: string[]) {
  const h = createOpsHarness()
  for (const name of names) {
    h.data.elsewhere.set(name, [B, C])
    h.peerHolds('B', name, 5, 1_000, 'ab'.repeat(32))
  }
  return h
}

describe('a file held at other members (ERR_MOVED)', () => {
  it('a read, an append, a delete and a rename of it name the holders', async () => {
    const h = withElsewhere('far.txt')
    const ctx = h.context()
    const moved = { code: 'ERR_MOVED', holders: [B, C] }
    expect(await failure(openFile(ctx, { name: 'far.txt' }))).toMatchObject(moved)
    expect(await failure(runBody(ctx, { op: 'append', name: 'far.txt' }, 'more'))).toMatchObject(
      moved,
    )
    expect(await failure(remove(ctx, { name: 'far.txt' }))).toMatchObject(moved)
    expect(await failure(rename(ctx, { from: 'far.txt', to: 'near.txt' }))).toMatchObject(moved)
    const { message } = (await failure(openFile(ctx, { name: 'far.txt' }))) as { message: string }
    expect(message).toBe("'far.txt' is not held at A: it is at B, C")
    // Nothing was made here, and nothing was told to the sync worker.
    expect(h.exists('far.txt')).toBe(false)
    expect(h.exists('near.txt')).toBe(false)
    expect(h.treeChanges).toEqual([])
  })

  it('a user lock of it is taken at a holder: ERR_MOVED (the sync worker finds no file here)', async () => {
    const h = createOpsHarness({
      userLock: (request) => {
        if (request.name === 'far.txt')
          return Promise.reject(new TandemError('ERR_NOT_FOUND', "no file 'far.txt' at A"))
        return Promise.resolve({ name: request.name, owner: 'alice', server: 'A' } as never)
      },
    })
    h.data.elsewhere.set('far.txt', [B, C])
    expect(await failure(lock(h.context(), { name: 'far.txt' }))).toMatchObject({
      code: 'ERR_MOVED',
      holders: [B, C],
    })
    expect(await failure(lock(h.context(), { name: 'near.txt' }))).toBe('ok')
  })

  it('an unlock of a lock held at a peer (it was followed there) goes there: ERR_MOVED to that peer', async () => {
    const h = withElsewhere('far.txt')
    h.data.members.set('C', C)
    h.data.userLocks.push({
      name: 'far.txt',
      server: 'C',
      owner: 'alice',
      since: 1,
      expiresAt: null,
      queued: 0,
    })
    const alice = h.context('alice')
    // The lock is at C, not at the first holder B: the one peer that has it.
    expect(await failure(unlock(alice, { name: 'far.txt' }))).toMatchObject({
      code: 'ERR_MOVED',
      holders: [C],
    })
    // No lock anywhere: not found, as before.
    expect(await failure(unlock(alice, { name: 'near.txt' }))).toMatchObject({
      code: 'ERR_NOT_FOUND',
    })
    // The peer's address unknown (no members row): not found here, as before.
    h.data.members.clear()
    expect(await failure(unlock(alice, { name: 'far.txt' }))).toMatchObject({
      code: 'ERR_NOT_FOUND',
    })
  })

  it('a conditional write is checked by the holders: ERR_MOVED', async () => {
    const h = withElsewhere('far.txt')
    const ctx = h.context()
    const conditions = { ifMatch: ['ab'.repeat(32)] }
    expect(
      await failure(runBody(ctx, { op: 'upload', name: 'far.txt' }, 'new', { conditions })),
    ).toMatchObject({ code: 'ERR_MOVED' })
    expect(await failure(remove(ctx, { name: 'far.txt' }, conditions))).toMatchObject({
      code: 'ERR_MOVED',
    })
    expect(h.exists('far.txt')).toBe(false)
  })

  it('is there for create (ERR_EXISTS) and a rename onto it (ERR_EXISTS); a write replaces it here', async () => {
    const h = withElsewhere('far.txt')
    const ctx = h.context()
    expect(await failure(runBody(ctx, { op: 'create', name: 'far.txt' }, 'x'))).toMatchObject({
      code: 'ERR_EXISTS',
    })
    h.writeFile('mine.txt', 'mine')
    expect(await failure(rename(ctx, { from: 'mine.txt', to: 'far.txt' }))).toMatchObject({
      code: 'ERR_EXISTS',
    })
    expect(h.readFile('mine.txt').toString()).toBe('mine')
    // A write (and an upload) makes a new version, held here.
    const written = await runBody(ctx, { op: 'write', name: 'far.txt' }, 'replaced')
    expect(written.result).toMatchObject({ name: 'far.txt', size: 8 })
    expect(h.readFile('far.txt').toString()).toBe('replaced')
  })

  it('no holder known: ERR_PEER_UNREACHABLE, not a redirect to nowhere', async () => {
    const h = createOpsHarness()
    h.data.elsewhere.set('far.txt', [])
    const error = await failure(openFile(h.context(), { name: 'far.txt' }))
    expect(error).toMatchObject({ code: 'ERR_PEER_UNREACHABLE', holders: undefined })
  })

  it('a name the index does not list stays ERR_NOT_FOUND; a file on the disk is served', async () => {
    const h = withElsewhere('far.txt')
    const ctx = h.context()
    expect(await failure(openFile(ctx, { name: 'nowhere.txt' }))).toMatchObject({
      code: 'ERR_NOT_FOUND',
    })
    expect(await failure(runBody(ctx, { op: 'append', name: 'nowhere.txt' }, 'x'))).toMatchObject({
      code: 'ERR_NOT_FOUND',
    })
    // Once a copy is on this disk (it arrived, or a client wrote one), it is read here.
    h.writeFile('far.txt', 'here now')
    const opened = await openFile(ctx, { name: 'far.txt' })
    await opened.handle.close()
    expect(opened.info.size).toBe(8)
  })

  it('stat gives its listing row, with the holders as its servers', async () => {
    const h = withElsewhere('far.txt')
    const row = await stat(h.context(), { name: 'far.txt' })
    expect(row).toMatchObject({ name: 'far.txt', servers: ['B'], size: 5 })
    expect((await list(h.context())).files.map((r) => [r.name, r.servers])).toEqual([
      ['far.txt', ['B']],
    ])
  })
})

describe('a folder with files held at other members', () => {
  it('rm -r deletes its files here and carries the others in the tree change (index only)', async () => {
    const h = withElsewhere('d/far1.txt', 'd/sub/far2.txt', 'other/far3.txt')
    h.writeFile('d/near.txt', 'near')
    const result = await remove(h.context(), { name: 'd', recursive: true })
    expect(result).toEqual({ name: 'd', files: 3, folder: true })
    expect(h.treeChanges).toEqual([
      { kind: 'delete', names: ['d/near.txt', 'd/far1.txt', 'd/sub/far2.txt'] },
    ])
    expect(h.exists('d')).toBe(false)
  })

  it('rm -r of a folder none of whose files is here: the tree change alone', async () => {
    const h = withElsewhere('d/far1.txt', 'd/far2.txt')
    expect(await failure(remove(h.context(), { name: 'd' }))).toMatchObject({
      code: 'ERR_IS_DIRECTORY',
    })
    const result = await remove(h.context(), { name: 'd', recursive: true })
    expect(result).toEqual({ name: 'd', files: 2, folder: true })
    expect(h.treeChanges).toEqual([{ kind: 'delete', names: ['d/far1.txt', 'd/far2.txt'] }])
  })

  it('mv moves its files here and carries the others as rename pairs; none here: pairs alone', async () => {
    const h = withElsewhere('d/far.txt', 'e/far.txt')
    h.writeFile('d/near.txt', 'near')
    const moved = await rename(h.context(), { from: 'd', to: 'd2' })
    expect(moved).toEqual({ from: 'd', to: 'd2', files: 2, folder: true })
    expect(h.readFile('d2/near.txt').toString()).toBe('near')
    expect(h.treeChanges).toEqual([
      {
        kind: 'rename',
        pairs: [
          { from: 'd/near.txt', to: 'd2/near.txt' },
          { from: 'd/far.txt', to: 'd2/far.txt' },
        ],
      },
    ])
    const onlyFar = await rename(h.context(), { from: 'e', to: 'e2' })
    expect(onlyFar).toEqual({ from: 'e', to: 'e2', files: 1, folder: true })
    expect(h.treeChanges[1]).toEqual({
      kind: 'rename',
      pairs: [{ from: 'e/far.txt', to: 'e2/far.txt' }],
    })
  })

  it('mv onto a folder whose files are all held elsewhere: ERR_EXISTS, nothing moved', async () => {
    const h = withElsewhere('taken/far.txt')
    h.writeFile('d/near.txt', 'near')
    expect(await failure(rename(h.context(), { from: 'd', to: 'taken' }))).toMatchObject({
      code: 'ERR_EXISTS',
    })
    expect(h.readFile('d/near.txt').toString()).toBe('near')
    expect(h.treeChanges).toEqual([])
  })

  it('mv of a folder to below a file held elsewhere: ERR_EXISTS, nothing moved', async () => {
    const h = withElsewhere('far.txt')
    h.writeFile('d/near.txt', 'near')
    expect(await failure(rename(h.context(), { from: 'd', to: 'far.txt/d' }))).toMatchObject({
      code: 'ERR_EXISTS',
    })
    expect(h.readFile('d/near.txt').toString()).toBe('near')
    expect(h.treeChanges).toEqual([])
  })

  it('a put over a folder held elsewhere is ERR_IS_DIRECTORY, as at a holder', async () => {
    const h = withElsewhere('docs/far.txt')
    expect(await failure(runBody(h.context(), { op: 'upload', name: 'docs' }, 'x'))).toMatchObject({
      code: 'ERR_IS_DIRECTORY',
    })
    expect(h.exists('docs')).toBe(false)
  })

  it('rm -r and mv wait for the sync worker to store the tree change before acting and answering', async () => {
    // The names held elsewhere leave no trace on this disk: the sync worker's record of them must
    // be durable before the client hears "deleted" (a kill -9 right after would lose it).
    let answer: (() => void) | undefined
    const told = new Promise<void>((resolve) => (answer = resolve))
    let failNext = false
    const h = createOpsHarness({
      treeChange: () => {
        if (failNext)
          return Promise.reject(new TandemError('ERR_SHUTTING_DOWN', 'the sync worker has stopped'))
        return told
      },
    })
    h.data.elsewhere.set('d/far.txt', [B, C])
    h.writeFile('d/near.txt', 'near')
    let answered = false
    const removed = remove(h.context(), { name: 'd', recursive: true }).then((r) => {
      answered = true
      return r
    })
    await waitFor(() => h.treeChanges.length === 1, { what: 'the tree change told' })
    // Told, not answered yet: nothing deleted here, no answer to the client.
    await new Promise((resolve) => setImmediate(resolve))
    expect(answered).toBe(false)
    expect(h.readFile('d/near.txt').toString()).toBe('near')
    answer!()
    expect(await removed).toEqual({ name: 'd', files: 2, folder: true })
    expect(h.exists('d')).toBe(false)
    // The sync worker stopped (or could not store it): the operation fails before the disk is touched.
    failNext = true
    h.writeFile('e/near.txt', 'near')
    h.data.elsewhere.set('e/far.txt', [B, C])
    expect(await failure(rename(h.context(), { from: 'e', to: 'e2' }))).toMatchObject({
      code: 'ERR_SHUTTING_DOWN',
    })
    expect(h.readFile('e/near.txt').toString()).toBe('near')
    expect(h.exists('e2')).toBe(false)
    // Without names held elsewhere the disk is the record (the scanner finds it, at the next
    // start if need be): the operation goes on, as before.
    h.writeFile('f/near.txt', 'near')
    expect(await rename(h.context(), { from: 'f', to: 'f2' })).toMatchObject({ files: 1 })
    expect(h.readFile('f2/near.txt').toString()).toBe('near')
  })
})
