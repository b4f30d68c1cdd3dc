// Folders as one operation (src/server/ops/folders.ts) through an OpsContext, in-process: a real
// file store, lock manager and change log in a temp dir (test/helpers/ops-harness.ts).
import { lstatSync, mkdirSync, readdirSync, statSync, symlinkSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { remove, rename } from '../../src/server/ops/files.js'
import { createOpsHarness } from '../helpers/ops-harness.js'

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  return promise.then(
    () => ({ code: 'ok', message: '' }),
    (err: unknown) => err as { code: string; message: string },
  )
}

/** A folder of files `dir/f00.txt`…, a nested one, and an empty sub-folder. */
function tree(h: ReturnType<typeof createOpsHarness>, count = 5): string[] {
  const names: string[] = []
  for (let i = 0; i < count; i++) {
    const name = `dir/f${String(i).padStart(2, '0')}.txt`
    h.writeFile(name, `content ${i}`)
    names.push(name)
  }
  h.writeFile('dir/sub/deep.txt', 'deep')
  names.push('dir/sub/deep.txt')
  mkdirSync(path.join(h.root, 'dir', 'empty'))
  return names.sort()
}

/** Until `client` has asked for `count` path locks (it waits for them now). */
async function asked(h: ReturnType<typeof createOpsHarness>, client: string, count = 1) {
  const deadline = Date.now() + 5_000
  while (h.lockRequests.filter((r) => r.client === client).length < count) {
    if (Date.now() > deadline) throw new Error(`${client} never asked for its locks`)
    await new Promise((resolve) => setImmediate(resolve))
  }
}

/** Let pending lock grants and fs callbacks run. */
async function turns(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve))
}

describe('delete of a folder', () => {
  it('without recursive: ERR_IS_DIRECTORY saying to use rm -r, nothing deleted', async () => {
    const h = createOpsHarness()
    tree(h)
    const err = await failure(remove(h.context(), { name: 'dir' }))
    expect(err.code).toBe('ERR_IS_DIRECTORY')
    expect(err.message).toBe("'dir' is a folder; delete it with rm -r (recursive)")
    expect(h.exists('dir/f00.txt')).toBe(true)
    expect(h.lockRequests.map((r) => r.names)).toEqual([['dir']])
  })

  it('recursive: every file under it in one lock request (sorted), one log entry, folders gone', async () => {
    const h = createOpsHarness()
    const names = tree(h)
    symlinkSync('f00.txt', path.join(h.root, 'dir', 'link'))
    h.writeFile('keep.txt', 'kept')
    const result = await remove(h.context('alice'), { name: 'dir/', recursive: true })
    expect(result).toEqual({ name: 'dir', files: names.length + 1, folder: true })
    expect(readdirSync(h.root).filter((n) => !n.startsWith('.'))).toEqual(['keep.txt'])
    expect(h.lockRequests).toHaveLength(2) // the name's own lock, then the folder's
    expect(h.lockRequests[1]).toMatchObject({
      mode: 'write',
      purpose: 'folder',
      outcome: 'granted',
    })
    expect(new Set(h.lockRequests[1]!.names)).toEqual(new Set(['dir', ...names, 'dir/link']))
    // The sync worker was told every name first, in sorted order.
    expect(h.treeChanges).toEqual([{ kind: 'delete', names: [...names, 'dir/link'].sort() }])
    expect(h.logEntries().map((e) => [e.op, e.name, e.client, e.detail])).toEqual([
      ['delete', 'dir', 'alice', `folder, ${names.length + 1} files`],
    ])
    expect(h.locks.size).toBe(0)
  })

  it('a nested folder goes, and so do the parents it leaves empty', async () => {
    const h = createOpsHarness()
    h.writeFile('a/b/c/x.txt', 'x')
    h.writeFile('a/y.txt', 'y')
    await remove(h.context(), { name: 'a/b', recursive: true })
    expect(readdirSync(path.join(h.root, 'a'))).toEqual(['y.txt'])
    await remove(h.context(), { name: 'a', recursive: true })
    expect(h.exists('a')).toBe(false)
  })

  it('recursive on a plain file deletes the file', async () => {
    const h = createOpsHarness()
    h.writeFile('one.txt', '1')
    expect(await remove(h.context(), { name: 'one.txt', recursive: true })).toEqual({
      name: 'one.txt',
    })
    expect(h.exists('one.txt')).toBe(false)
  })

  it('a user lock on any file in it refuses the whole delete, its owner’s too (ERR_LOCKED)', async () => {
    const h = createOpsHarness()
    const names = tree(h)
    h.holdUserLock('dir/sub/deep.txt', 'bob')
    for (const client of ['alice', 'bob']) {
      const err = await failure(remove(h.context(client), { name: 'dir', recursive: true }))
      expect(err.code).toBe('ERR_LOCKED')
      expect(err.message).toContain("'dir/sub/deep.txt' is locked by")
    }
    for (const name of names) expect(h.exists(name)).toBe(true)
    expect(statSync(path.join(h.root, 'dir', 'empty')).isDirectory()).toBe(true)
    expect(h.treeChanges).toEqual([])
    expect(h.logEntries()).toEqual([])
    expect(h.locks.size).toBe(0)
  })

  it('takes every lock before deleting anything: one busy file holds the whole folder', async () => {
    const h = createOpsHarness()
    const names = tree(h)
    // A file in the middle of the sorted order is being written by someone else.
    const release = await h.lock(['dir/f02.txt'], 'write', 'bob')
    const deleting = remove(h.context(), { name: 'dir', recursive: true })
    await asked(h, 'alice', 2) // the name's own lock, then the folder's
    await turns()
    for (const name of names) expect(h.exists(name)).toBe(true) // f00 sorts first: still there
    release()
    expect(await deleting).toMatchObject({ files: names.length, folder: true })
    expect(h.exists('dir')).toBe(false)
  })

  it('a file made in the folder while its locks were awaited is locked and deleted too', async () => {
    const h = createOpsHarness()
    const names = tree(h, 3)
    const release = await h.lock(['dir/f00.txt'], 'write', 'bob')
    const deleting = remove(h.context(), { name: 'dir', recursive: true })
    await asked(h, 'alice', 2)
    h.writeFile('dir/late.txt', 'made meanwhile')
    release()
    expect(await deleting).toMatchObject({ files: names.length + 1 })
    expect(h.exists('dir')).toBe(false)
    expect(h.lockRequests.filter((r) => r.client === 'alice')).toHaveLength(3)
    expect(h.lockRequests.at(-1)!.names).toContain('dir/late.txt')
  })
})

describe('rename of a folder', () => {
  it('one rename of the directory (inodes kept), locks on old and new names, one log entry', async () => {
    const h = createOpsHarness()
    const names = tree(h)
    const inode = lstatSync(path.join(h.root, 'dir', 'f00.txt')).ino
    const result = await rename(h.context('alice'), { from: 'dir', to: 'moved/here' })
    expect(result).toEqual({ from: 'dir', to: 'moved/here', files: names.length, folder: true })
    expect(h.exists('dir')).toBe(false)
    expect(lstatSync(path.join(h.root, 'moved', 'here', 'f00.txt')).ino).toBe(inode)
    expect(h.readFile('moved/here/sub/deep.txt').toString()).toBe('deep')
    expect(statSync(path.join(h.root, 'moved', 'here', 'empty')).isDirectory()).toBe(true)
    const moved = names.map((n) => n.replace(/^dir\//, 'moved/here/'))
    expect(h.lockRequests).toHaveLength(2)
    expect(new Set(h.lockRequests[1]!.names)).toEqual(
      new Set(['dir', 'moved/here', ...names, ...moved]),
    )
    expect(h.lockRequests[1]).toMatchObject({ mode: 'write', purpose: 'folder' })
    expect(h.treeChanges).toEqual([
      { kind: 'rename', pairs: names.map((from, i) => ({ from, to: moved[i] })) },
    ])
    expect(h.logEntries().map((e) => [e.op, e.name, e.to, e.detail])).toEqual([
      ['rename', 'dir', 'moved/here', `folder, ${names.length} files`],
    ])
  })

  it('into itself is ERR_BAD_PATH; onto anything that exists ERR_EXISTS; a missing one ERR_NOT_FOUND', async () => {
    const h = createOpsHarness()
    const names = tree(h)
    h.writeFile('file.txt', 'f')
    h.writeFile('other/x.txt', 'x')
    mkdirSync(path.join(h.root, 'emptydir'))
    const ctx = h.context()
    const into = await failure(rename(ctx, { from: 'dir', to: 'dir/sub/dir' }))
    expect(into.code).toBe('ERR_BAD_PATH')
    expect(into.message).toContain('into itself')
    expect((await failure(rename(ctx, { from: 'dir', to: 'dir' }))).code).toBe('ERR_BAD_PATH')
    for (const to of ['file.txt', 'other', 'emptydir'])
      expect((await failure(rename(ctx, { from: 'dir', to }))).code).toBe('ERR_EXISTS')
    // A sibling whose name merely starts the same is not inside.
    await rename(ctx, { from: 'dir', to: 'dir2' })
    expect(h.exists('dir2/f00.txt')).toBe(true)
    expect((await failure(rename(ctx, { from: 'dir', to: 'x' }))).code).toBe('ERR_NOT_FOUND')
    expect(h.readFile('file.txt').toString()).toBe('f')
    expect(readdirSync(path.join(h.root, 'emptydir'))).toEqual([])
    expect(names.length).toBeGreaterThan(0)
  })

  it('a user lock on a file in it refuses the move, its owner’s too; nothing moves', async () => {
    const h = createOpsHarness()
    const names = tree(h)
    h.holdUserLock('dir/f01.txt', 'bob')
    for (const client of ['alice', 'bob'])
      expect((await failure(rename(h.context(client), { from: 'dir', to: 'new' }))).code).toBe(
        'ERR_LOCKED',
      )
    for (const name of names) expect(h.exists(name)).toBe(true)
    expect(h.exists('new')).toBe(false)
    expect(h.treeChanges).toEqual([])
    expect(h.logEntries()).toEqual([])
  })

  it('a user lock on a name it would move onto refuses it too', async () => {
    const h = createOpsHarness()
    tree(h, 2)
    // A lock on a file only a peer holds (nothing on this disk under `new/`).
    h.holdUserLock('new/f00.txt', 'carol')
    expect((await failure(rename(h.context(), { from: 'dir', to: 'new' }))).code).toBe('ERR_LOCKED')
    expect(h.exists('dir/f00.txt')).toBe(true)
  })
})
