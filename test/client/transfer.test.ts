// Transfers against the hand-made server: put plans (names, sub-folders, refusals), pipelined
// batch puts with progress, and atomic downloads that leave nothing behind when they fail.
import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  downloadFile,
  downloadTarget,
  getFiles,
  planPut,
  putFiles,
  uploadFile,
  type PutProgress,
} from '../../src/client/transfer.js'
import { planFolder } from '../../src/client/get-plan.js'
import { SMALL_DOWNLOAD_BYTES } from '../../src/client/small-file-sink.js'
import { SYNC_BEHIND_BYTES } from '../../src/client/sync-behind.js'
import { readRemoteDestination } from '../../src/client/put-plan.js'
import { TandemError, type FileRow } from '../../src/protocol/index.js'
import { tempDir } from '../helpers/index.js'
import { canMountTmpfs, mountTmpfs } from '../helpers/tmpfs.js'
import { codeOf, fakeServerFixture } from './fake-server.js'

const fake = fakeServerFixture('t')
afterEach(() => fake.teardown())
const setup = fake.setup

async function tree(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(root, name)), { recursive: true })
    await fs.writeFile(path.join(root, name), content)
  }
}

describe('planPut', () => {
  it('keeps a folder name and its relative paths, and a file its base name', async () => {
    const dir = tempDir()
    await tree(dir, { 'photos/a.jpg': 'a', 'photos/2026/b.jpg': 'bb', 'c.txt': 'ccc' })
    await fs.symlink(path.join(dir, 'photos'), path.join(dir, 'photos', 'loop'))
    const plan = await planPut([path.join(dir, 'photos'), path.join(dir, 'c.txt')])
    expect(plan.items.map((i) => i.name)).toEqual(['photos/2026/b.jpg', 'photos/a.jpg', 'c.txt'])
    expect(plan.bytes).toBe(6)
    expect(plan.skipped).toEqual([
      { local: path.join(dir, 'photos', 'loop'), reason: 'symlink to a folder' },
    ])
    const renamed = await planPut([path.join(dir, 'photos')], { as: 'pics' })
    expect(renamed.items.map((i) => i.name)).toEqual(['pics/2026/b.jpg', 'pics/a.jpg'])
  })

  it('refuses missing paths, clashing names and names the server would refuse, before sending', async () => {
    const dir = tempDir()
    await tree(dir, { 'x/same.txt': '1', 'y/same.txt': '2', 'bad/.tandem-tmp-x': '3' })
    expect(await codeOf(planPut([path.join(dir, 'nope')]))).toBe('ERR_NOT_FOUND')
    expect(
      await codeOf(planPut([path.join(dir, 'x/same.txt'), path.join(dir, 'y/same.txt')])),
    ).toBe('ERR_EXISTS')
    expect(await codeOf(planPut([path.join(dir, 'bad')]))).toBe('ERR_BAD_PATH')
  })
})

describe('readRemoteDestination', () => {
  it('reads / as the root, a trailing / as inside, and refuses names that leave the root', () => {
    expect(readRemoteDestination('/')).toEqual({ kind: 'root' })
    expect(readRemoteDestination('./')).toEqual({ kind: 'root' })
    expect(readRemoteDestination('docs/')).toEqual({ kind: 'folder', name: 'docs' })
    expect(readRemoteDestination('a//b/./c')).toEqual({ kind: 'name', name: 'a/b/c' })
    for (const bad of ['..', '../x', 'a/../../x', '/etc/x', 'a\\b', '', 'x\0y'])
      expect(() => readRemoteDestination(bad), bad).toThrow(
        expect.objectContaining({ code: 'ERR_BAD_PATH' }),
      )
  })

  it('puts sources inside a folder with `into`', async () => {
    const dir = tempDir()
    await tree(dir, { 'photos/a.jpg': 'a', 'c.txt': 'ccc' })
    const plan = await planPut([path.join(dir, 'photos'), path.join(dir, 'c.txt')], { into: 'in' })
    expect(plan.items.map((i) => i.name)).toEqual(['in/photos/a.jpg', 'in/c.txt'])
    const root = await planPut([path.join(dir, 'c.txt')], { into: '' })
    expect(root.items.map((i) => i.name)).toEqual(['c.txt'])
  })
})

describe('putFiles and uploadFile', () => {
  it('uploads a batch pipelined over one connection, with progress for the whole batch', async () => {
    const c = await setup()
    const dir = tempDir()
    const files: Record<string, Buffer> = {}
    for (let i = 0; i < 20; i++)
      files[`set/f${String(i).padStart(2, '0')}.bin`] = randomBytes(1000 + i * 5000)
    await tree(dir, files)
    const plan = await planPut([path.join(dir, 'set')])
    const seen: PutProgress[] = []
    const result = await putFiles(c, plan.items, {
      maxInFlight: 4,
      onProgress: (p) => seen.push(p),
    })
    expect(result.files).toHaveLength(20)
    for (const [name, content] of Object.entries(files))
      expect(fake.server!.files.get(name)!.equals(content)).toBe(true)
    const last = seen.at(-1)!
    expect(last).toMatchObject({
      bytesDone: plan.bytes,
      bytesTotal: plan.bytes,
      filesDone: 20,
      filesTotal: 20,
    })
    expect(seen.every((p, i) => i === 0 || p.bytesDone >= seen[i - 1]!.bytesDone)).toBe(true)
    const uploads = fake.server!.received.filter(
      (r) => r.kind === 'control' && r.message.op === 'upload',
    )
    expect(uploads[0]).toMatchObject({ message: { size: 1000 } })
  })

  it('stops a batch at the first failure and names the file', async () => {
    const c = await setup()
    const dir = tempDir()
    await tree(dir, { 'b/1': 'one', 'b/2': 'two', 'b/3': 'three' })
    const plan = await planPut([path.join(dir, 'b')])
    await fs.rm(path.join(dir, 'b/2'))
    const error = await putFiles(c, plan.items, { maxInFlight: 1 }).catch(
      (e: unknown) => e as TandemError,
    )
    expect(error).toBeInstanceOf(TandemError)
    expect((error as TandemError).code).toBe('ERR_NOT_FOUND')
    expect((error as TandemError).message).toContain('b/2')
    expect(fake.server!.files.has('b/1')).toBe(true)
    expect(fake.server!.files.has('b/3')).toBe(false)
  })

  it('uploadFile sends the local size and mtime', async () => {
    const c = await setup()
    const file = path.join(tempDir(), 'm.txt')
    await fs.writeFile(file, 'mtime')
    const stat = await fs.stat(file)
    await uploadFile(c, file, 'm.txt')
    const request = fake.server!.received.find(
      (r) => r.kind === 'control' && r.message.op === 'upload',
    )
    expect(request).toMatchObject({ message: { name: 'm.txt', size: 5, mtime: stat.mtimeMs } })
    expect(await codeOf(uploadFile(c, path.dirname(file), 'dir'))).toBe('ERR_IS_DIRECTORY')
  })
})

describe('downloadFile', () => {
  it('writes the file whole and leaves no temp file', async () => {
    const c = await setup()
    const content = randomBytes(1_500_000)
    fake.server!.files.set('d/big', content)
    const dir = tempDir()
    const target = await downloadTarget('d/big', dir)
    const result = await downloadFile(c, 'd/big', target)
    expect(result.path).toBe(path.join(dir, 'big'))
    expect((await fs.readFile(target)).equals(content)).toBe(true)
    expect(await fs.readdir(dir)).toEqual(['big'])
  })

  it('on a SHA-256 mismatch leaves the old target untouched and no temp file', async () => {
    const c = await setup({ badDownloadHash: true })
    fake.server!.files.set('a', Buffer.from('new content'))
    const dir = tempDir()
    const target = path.join(dir, 'a')
    await fs.writeFile(target, 'old')
    expect(await codeOf(downloadFile(c, 'a', target))).toBe('ERR_INTEGRITY')
    expect(await fs.readFile(target, 'utf8')).toBe('old')
    expect(await fs.readdir(dir)).toEqual(['a'])
  })

  // Past SYNC_BEHIND_BYTES twice: the temp file is flushed in the background through a second
  // descriptor while the body arrives. Whole when it checks out; when it does not, the temp file
  // is gone and that descriptor is closed too (none left open by the failed download).
  it('a body over the background-sync threshold arrives whole, and a failed one leaves no descriptor open', async () => {
    const content = randomBytes(2 * SYNC_BEHIND_BYTES + 12_345)
    const c = await setup()
    fake.server!.files.set('big', content)
    const dir = tempDir()
    await downloadFile(c, 'big', path.join(dir, 'big'))
    expect((await fs.readFile(path.join(dir, 'big'))).equals(content)).toBe(true)
    await fake.teardown()
    const bad = await setup({ badDownloadHash: true })
    fake.server!.files.set('big', content)
    const fds = (await fs.readdir('/proc/self/fd')).length
    expect(await codeOf(downloadFile(bad, 'big', path.join(dir, 'other')))).toBe('ERR_INTEGRITY')
    expect(await fs.readdir(dir)).toEqual(['big'])
    expect((await fs.readdir('/proc/self/fd')).length).toBeLessThanOrEqual(fds)
  })

  it('fails with ERR_NOT_FOUND into a missing folder', async () => {
    const c = await setup()
    fake.server!.files.set('a', Buffer.from('x'))
    expect(await codeOf(downloadFile(c, 'a', path.join(tempDir(), 'no', 'a')))).toBe(
      'ERR_NOT_FOUND',
    )
  })
})

// A file planned small (a listing's size up to SMALL_DOWNLOAD_BYTES) is written synchronously,
// fsynced in the pool: the same promises as the write-stream path.
describe('downloadFile, planned small', () => {
  it('writes the file whole with its mtime and leaves no temp file, even if it grew', async () => {
    const c = await setup()
    const small = randomBytes(4096)
    const grown = randomBytes(3 * 1024 * 1024 + 7) // planned at 10 bytes, 3 MiB by now
    fake.server!.files.set('s', small).set('g', grown)
    const dir = tempDir()
    await downloadFile(c, 's', path.join(dir, 's'), { plannedSize: small.length })
    await downloadFile(c, 'g', path.join(dir, 'g'), { plannedSize: 10 })
    expect((await fs.readFile(path.join(dir, 's'))).equals(small)).toBe(true)
    expect((await fs.readFile(path.join(dir, 'g'))).equals(grown)).toBe(true)
    expect((await fs.stat(path.join(dir, 's'))).mtimeMs).toBe(1) // the server's mtime
    expect((await fs.readdir(dir)).sort()).toEqual(['g', 's'])
  })

  it('on a SHA-256 mismatch keeps the old target, and leaves no temp file nor descriptor', async () => {
    const c = await setup({ badDownloadHash: true })
    fake.server!.files.set('a', Buffer.from('new content'))
    const dir = tempDir()
    const target = path.join(dir, 'a')
    await fs.writeFile(target, 'old')
    const fds = (await fs.readdir('/proc/self/fd')).length
    const got = downloadFile(c, 'a', target, { plannedSize: SMALL_DOWNLOAD_BYTES })
    expect(await codeOf(got)).toBe('ERR_INTEGRITY')
    expect(await fs.readFile(target, 'utf8')).toBe('old')
    expect(await fs.readdir(dir)).toEqual(['a'])
    expect((await fs.readdir('/proc/self/fd')).length).toBeLessThanOrEqual(fds)
  })

  it('fails with ERR_NOT_FOUND into a missing folder, and ERR_EXISTS with noClobber', async () => {
    const c = await setup()
    fake.server!.files.set('a', Buffer.from('x'))
    const missing = downloadFile(c, 'a', path.join(tempDir(), 'no', 'a'), { plannedSize: 1 })
    expect(await codeOf(missing)).toBe('ERR_NOT_FOUND')
    const dir = tempDir()
    await fs.writeFile(path.join(dir, 'a'), 'mine')
    const kept = downloadFile(c, 'a', path.join(dir, 'a'), { plannedSize: 1, noClobber: true })
    expect(await codeOf(kept)).toBe('ERR_EXISTS')
    expect(await fs.readFile(path.join(dir, 'a'), 'utf8')).toBe('mine')
    expect(await fs.readdir(dir)).toEqual(['a'])
  })
})

describe.skipIf(!canMountTmpfs())('downloadFile, planned small, onto a full disk', () => {
  it('is ERR_NO_SPACE, leaves no temp file nor descriptor, and keeps the old target', async () => {
    const c = await setup()
    fake.server!.files.set('a', randomBytes(16 * 1024))
    const dir = tempDir()
    mountTmpfs(dir, 1)
    await fs.writeFile(path.join(dir, 'a'), 'old')
    // Fill the disk: whatever is left of its 1 MiB goes to one file.
    const fill = await fs.open(path.join(dir, 'fill'), 'w')
    await fill.write(Buffer.alloc(2 * 1024 * 1024)).catch(() => undefined)
    await fill.close()
    const fds = (await fs.readdir('/proc/self/fd')).length
    const got = downloadFile(c, 'a', path.join(dir, 'a'), { plannedSize: 16 * 1024 })
    expect(await codeOf(got)).toBe('ERR_NO_SPACE')
    expect((await fs.readdir(dir)).sort()).toEqual(['a', 'fill'])
    expect(await fs.readFile(path.join(dir, 'a'), 'utf8')).toBe('old')
    expect((await fs.readdir('/proc/self/fd')).length).toBeLessThanOrEqual(fds)
  })
})

describe('getFiles', () => {
  const rowsOf = (files: Map<string, Buffer>): FileRow[] =>
    [...files].map(([name, content], index) => ({
      index,
      name,
      size: content.length,
      mtime: 1,
      servers: ['F'],
      locked: false,
      locks: [],
      differs: false,
    }))

  it('downloads a tree over one connection, each file whole, with progress for the batch', async () => {
    const c = await setup()
    for (let i = 0; i < 20; i++)
      fake.server!.files.set(`set/d${i % 3}/f${i}.bin`, randomBytes(1000 + i * 7000))
    const dir = path.join(tempDir(), 'out')
    const plan = planFolder('set', rowsOf(fake.server!.files), dir)
    const seen: PutProgress[] = []
    const result = await getFiles(c, plan.items, {
      maxInFlight: 4,
      onProgress: (p) => seen.push(p),
    })
    expect(result.files).toHaveLength(20)
    expect(result.bytes).toBe(plan.bytes)
    for (const [name, content] of fake.server!.files) {
      const local = path.join(dir, ...name.split('/').slice(1))
      expect((await fs.readFile(local)).equals(content)).toBe(true)
    }
    expect(seen.at(-1)).toMatchObject({
      bytesDone: plan.bytes,
      bytesTotal: plan.bytes,
      filesDone: 20,
      filesTotal: 20,
    })
    expect(fake.server!.sockets.size).toBe(1)
    const entries = await fs.readdir(dir, { recursive: true })
    expect(entries.filter((e) => e.includes('tandem-part'))).toEqual([])
  })

  it('keeps existing files with noClobber, and stops at a failure naming the file', async () => {
    const c = await setup()
    fake.server!.files.set('k/a', Buffer.from('server a'))
    fake.server!.files.set('k/b', Buffer.from('server b'))
    const dir = tempDir()
    await fs.writeFile(path.join(dir, 'a'), 'mine')
    const plan = planFolder('k', rowsOf(fake.server!.files), dir)
    const kept = await getFiles(c, plan.items, { noClobber: true })
    expect(kept.skipped).toEqual([{ name: 'k/a', path: path.join(dir, 'a'), reason: 'exists' }])
    expect(kept.files.map((f) => f.name)).toEqual(['k/b'])
    expect(await fs.readFile(path.join(dir, 'a'), 'utf8')).toBe('mine')
    // Gone from the server since it was listed: ERR_NOT_FOUND, naming it, and no temp file left.
    fake.server!.files.delete('k/a')
    const error = await getFiles(c, plan.items, { maxInFlight: 1 }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'ERR_NOT_FOUND' })
    expect((error as Error).message).toContain("'k/a'")
    expect((error as Error).message).toContain('(0 of 2 files fetched)')
    expect((await fs.readdir(dir)).sort()).toEqual(['a', 'b'])
    expect(await fs.readFile(path.join(dir, 'a'), 'utf8')).toBe('mine')
  })
})
