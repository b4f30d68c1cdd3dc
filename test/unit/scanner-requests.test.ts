// A client request's rid rides with the index entry of its write: told before the write's notice
// (the usual order), or after the scanner already indexed the change (the notice came late: the
// entry is stored again with it). Real files, a real index database, in a temp dir.
import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { EntryRequest } from '../../src/protocol/index.js'
import { openIndexDb } from '../../src/server/index/database.js'
import { FileIndex } from '../../src/server/index/file-index.js'
import { Scanner } from '../../src/server/watch/scanner.js'
import { tempDir, waitFor } from '../helpers/index.js'

const REQUEST: EntryRequest = {
  rid: 'c:1',
  op: 'append',
  target: 'f.txt',
  result: { result: { name: 'f.txt', size: 3, mtime: 1, sha256: 'x' }, created: false },
  at: 1,
}

function setup(warnings: string[] = []) {
  const base = tempDir('tandem-scanner-rid-')
  fs.mkdirSync(`${base}/root`)
  const db = openIndexDb(`${base}/state`)
  const index = new FileIndex(db)
  const reported: unknown[] = []
  let release = (): void => undefined
  let confirmed!: Promise<void>
  let released = 0
  const scanner = new Scanner({
    root: `${base}/root`,
    index,
    self: 'A',
    busy: { has: () => false },
    refuse: () => undefined,
    warn: (message) => warnings.push(message),
    now: () => Date.now() + 1_000, // every file is settled
    // The client's write is "still under way" until the test lets it go.
    confirm: () => {
      confirmed = new Promise<void>((resolve) => (release = resolve))
      return confirmed.then(() => () => void released++)
    },
    localChange: (change) => reported.push(change),
  })
  const identity = (name: string) => {
    const st = fs.statSync(`${base}/root/${name}`)
    return { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino }
  }
  return {
    root: `${base}/root`,
    index,
    scanner,
    identity,
    reported,
    letGo: () => release(),
    released: () => released,
    close: () => db.close(),
  }
}

describe('a request id in the index', () => {
  it('told before the notice: the entry carries it, and the request window has it', async () => {
    const { root, index, scanner, identity, close } = setup()
    fs.writeFileSync(`${root}/f.txt`, 'abc')
    scanner.requestDone(REQUEST, ['f.txt'])
    scanner.wrote([{ name: 'f.txt', identity: identity('f.txt') }])
    await scanner.scanNow(['f.txt'])
    expect(index.get('f.txt')?.request).toEqual(REQUEST)
    expect(index.requests.get('c:1')).toMatchObject({ op: 'append', origin: 'A' })
    expect(index.since(0, 10)[0]?.request).toEqual(REQUEST)
    close()
  })

  it('a notice that comes after the change was indexed still gets the rid into the index', async () => {
    const { root, index, scanner, identity, reported, letGo, close } = setup()
    fs.writeFileSync(`${root}/f.txt`, 'abc')
    await scanner.scanNow(['f.txt'])
    const first = index.get('f.txt')!
    expect(first.request).toBeUndefined()
    scanner.requestDone(REQUEST, ['f.txt'])
    scanner.wrote([{ name: 'f.txt', identity: identity('f.txt') }])
    letGo()
    const again = await waitFor(() => index.get('f.txt')?.request && index.get('f.txt'), {
      what: 'the entry stored again with its request',
    })
    expect(again.request).toEqual(REQUEST)
    expect(again.version).toEqual(first.version) // the same version, announced again
    expect(again.seq).toBeGreaterThan(first.seq)
    expect(index.requests.get('c:1')).toBeDefined()
    expect(reported).toEqual([]) // the server's own write, not a local change
    close()
  })
  it('late notices for a batch of files: the entries are stored again in one transaction', async () => {
    const { root, index, scanner, identity, reported, letGo, close } = setup()
    const names = ['a.txt', 'b.txt', 'c.txt']
    for (const name of names) fs.writeFileSync(`${root}/${name}`, name)
    await scanner.scanNow(names)
    const stores: string[][] = []
    index.onStored((entries) => stores.push(entries.map((e) => e.name)))
    names.forEach((name, i) => {
      const request = { ...REQUEST, rid: `c:${i + 1}`, target: name }
      scanner.requestDone(request, [name])
      scanner.wrote([{ name, identity: identity(name) }])
    })
    letGo()
    await waitFor(() => stores.length > 0, { what: 'the entries stored again' })
    expect(stores).toEqual([names])
    for (const [i, name] of names.entries())
      expect(index.get(name)?.request?.rid).toBe(`c:${i + 1}`)
    expect(reported).toEqual([])
    close()
  })

  it('the index failing while late notices are stored: warned of, the lock released', async () => {
    const warnings: string[] = []
    const { root, scanner, identity, letGo, released, close } = setup(warnings)
    fs.writeFileSync(`${root}/f.txt`, 'abc')
    await scanner.scanNow(['f.txt'])
    scanner.requestDone(REQUEST, ['f.txt'])
    scanner.wrote([{ name: 'f.txt', identity: identity('f.txt') }])
    close() // its look-ups and stores throw from now on
    letGo()
    await waitFor(() => released() === 1, { what: 'the confirm lock released' })
    expect(warnings).toEqual([
      expect.stringMatching(/^could not finish storing late requests on their entries/),
    ])
  })

  it('indexed before its notice, then a crash: the restart inventory stores the entry again with the rid', async () => {
    const { root, index, scanner, close } = setup()
    fs.writeFileSync(`${root}/f.txt`, 'abc')
    await scanner.scanNow(['f.txt']) // the scanner was quicker; the notice died with the process
    const first = index.get('f.txt')!
    expect(first.request).toBeUndefined()
    scanner.stop()
    // The restart: the main thread's record (tandem.db) tells the request, the disk is unchanged.
    const restarted = new Scanner({
      root,
      index,
      self: 'A',
      busy: { has: () => false },
      refuse: () => undefined,
      warn: () => undefined,
      now: () => Date.now() + 1_000,
    })
    restarted.recover([{ request: REQUEST, names: ['f.txt'] }])
    await restarted.inventory()
    const again = index.get('f.txt')!
    expect(again.request).toEqual(REQUEST)
    expect(again.version).toEqual(first.version) // the same version, announced again
    expect(again.seq).toBeGreaterThan(first.seq)
    expect(index.requests.get('c:1')).toMatchObject({ op: 'append', origin: 'A' })
    restarted.stop()
    close()
  })
})
