// Group commit (sync/group-commit.ts), on real temp files and a real index.db: publications that
// are ready together each ask for their own name's lock (in one turn) and share one index
// transaction; one whose lock, own check fails, or whose folder vanished before its rename, is
// rejected alone while the others are stored; two of one name are never in one group.
import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { openIndexDb } from '../../src/server/index/database.js'
import type { FileEntry } from '../../src/server/index/entry.js'
import { FileIndex } from '../../src/server/index/file-index.js'
import { GroupCommit } from '../../src/server/sync/group-commit.js'
import { tempDir } from '../helpers/index.js'
import { sealedPublication as sealed } from '../helpers/sealed-publication.js'

function setup() {
  const root = tempDir('tandem-group-commit-')
  const db = openIndexDb(tempDir('tandem-group-commit-state-'))
  const index = new FileIndex(db)
  const locks: string[][] = []
  const stored: FileEntry[][] = []
  index.onStored((entries) => stored.push(entries))
  const commit = new GroupCommit({
    index,
    lock: (names) => {
      locks.push([...names])
      return Promise.resolve(() => undefined)
    },
  })
  return { root, index, commit, locks, stored, close: () => db.close() }
}

describe('group commit', () => {
  it('a lock request per name and one transaction per group; a failed one is left out alone', async () => {
    const { root, index, commit, locks, stored, close } = setup()
    const pubs = await Promise.all(
      ['a/1.txt', 'a/2.txt', 'b/3.txt', 'c/4.txt', 'a/5.txt'].map((n) => sealed(root, n, n)),
    )
    pubs[1]!.check = () => Promise.reject(new Error('changed on disk'))
    await fs.rm(path.join(root, 'c'), { recursive: true }) // c/4.txt's folder (and temp file) gone
    const results = await Promise.allSettled(pubs.map((p) => commit.publish(p)))

    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'rejected',
      'fulfilled',
    ])
    expect(String((results[1] as PromiseRejectedResult).reason)).toContain('changed on disk')
    expect((results[3] as PromiseRejectedResult).reason).toMatchObject({ code: 'ERR_NOT_FOUND' })
    expect(locks).toEqual([['a/1.txt'], ['a/2.txt'], ['b/3.txt'], ['c/4.txt'], ['a/5.txt']])
    expect(stored.map((batch) => batch.map((e) => e.name))).toEqual([
      ['a/1.txt', 'b/3.txt', 'a/5.txt'],
    ])
    for (const name of ['a/1.txt', 'b/3.txt', 'a/5.txt']) {
      expect(await fs.readFile(path.join(root, name), 'utf8')).toBe(name)
      const st = await fs.stat(path.join(root, name))
      expect(index.get(name)?.fingerprint).toEqual({
        size: st.size,
        mtimeMs: st.mtimeMs,
        ino: st.ino,
      })
    }
    // Nothing was renamed over the name whose check failed; its temp file is the caller's.
    await expect(fs.stat(path.join(root, 'a/2.txt'))).rejects.toMatchObject({ code: 'ENOENT' })
    expect(index.get('a/2.txt')).toBeUndefined()
    await pubs[1]!.temp.discard()
    expect((await fs.readdir(path.join(root, 'a'))).sort()).toEqual(['1.txt', '5.txt'])
    close()
  })

  it('two publications of one name go in two groups, in order', async () => {
    const { root, index, commit, locks, close } = setup()
    const first = await sealed(root, 'x.txt', 'first')
    const second = await sealed(root, 'x.txt', 'second')
    const other = await sealed(root, 'y.txt', 'other')
    await Promise.all([first, second, other].map((p) => commit.publish(p)))
    expect(locks).toEqual([['x.txt'], ['y.txt'], ['x.txt']])
    expect(await fs.readFile(path.join(root, 'x.txt'), 'utf8')).toBe('second')
    expect(index.get('x.txt')?.size).toBe('second'.length)
    close()
  })

  it('a lock that cannot be had fails its own file only, nothing renamed over it', async () => {
    const root = tempDir('tandem-group-commit-')
    const db = openIndexDb(tempDir('tandem-group-commit-state-'))
    const index = new FileIndex(db)
    const stored: string[][] = []
    index.onStored((entries) => stored.push(entries.map((e) => e.name)))
    const commit = new GroupCommit({
      index,
      lock: (names) =>
        names.includes('p.txt')
          ? Promise.reject(Object.assign(new Error('timed out'), { code: 'ERR_TIMEOUT' }))
          : Promise.resolve(() => undefined),
    })
    const pubs = await Promise.all(['p.txt', 'q.txt'].map((n) => sealed(root, n, n)))
    const results = await Promise.allSettled(pubs.map((p) => commit.publish(p)))
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled'])
    expect((results[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'ERR_TIMEOUT' })
    expect((await fs.readdir(root)).filter((n) => !n.startsWith('.tandem-tmp-'))).toEqual(['q.txt'])
    expect(index.get('p.txt')).toBeUndefined()
    expect(stored).toEqual([['q.txt']])
    for (const p of pubs) await p.temp.discard()
    expect(await fs.readdir(root)).toEqual(['q.txt'])
    db.close()
  })
})
