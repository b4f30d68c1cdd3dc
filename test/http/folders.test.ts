// Folders over HTTP, against a real server: a folder's files listed with ?prefix=, deleted with
// ?recursive=1 (ERR_IS_DIRECTORY without it, ERR_LOCKED while a file in it is locked), renamed by
// both rename endpoints as one operation.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  expectError,
  expectJson,
  get,
  httpRequest,
  startServer,
  type ServerHandle,
} from '../helpers/index.js'

const ID = 'folder-client'

describe('HTTP: folders', () => {
  let server: ServerHandle
  let base: string
  beforeAll(async () => {
    server = await startServer({ http: true })
    base = server.httpUrl!
  })
  const disk = (name: string) => path.join(server.root, ...name.split('/'))
  const make = (names: string[]) => {
    for (const name of names) {
      mkdirSync(path.dirname(disk(name)), { recursive: true })
      writeFileSync(disk(name), `content of ${name}`)
    }
  }
  const del = (pathAndQuery: string, clientId = ID) =>
    httpRequest(base, pathAndQuery, { method: 'DELETE', clientId })
  const names = (rows: { name: string }[]) => rows.map((r) => r.name)

  it('GET /api/v1/files?prefix=dir/ and /list?prefix=: the folder’s files, indexes as in the whole listing', async () => {
    make(['pre/a.txt', 'pre/sub/b.txt', 'pre-not/c.txt', 'zzz.txt'])
    const all = expectJson(await get(base, '/api/v1/files')).files as {
      name: string
      index: number
    }[]
    const { files } = expectJson(await get(base, '/api/v1/files?prefix=pre%2F'))
    expect(names(files)).toEqual(['pre/a.txt', 'pre/sub/b.txt'])
    for (const row of files as { name: string; index: number }[])
      expect(row.index).toBe(all.find((r) => r.name === row.name)!.index)
    expect(names(expectJson(await get(base, '/list?prefix=pre/sub/')))).toEqual(['pre/sub/b.txt'])
    expect(expectJson(await get(base, '/api/v1/files?prefix=nothing-here/')).files).toEqual([])
  })

  it('DELETE /api/v1/files/<folder>: ERR_IS_DIRECTORY without recursive; with it, the whole folder', async () => {
    make(['gone/one.txt', 'gone/two.txt', 'gone/deep/three.txt'])
    const message = expectError(await del('/api/v1/files/gone'), 400, 'ERR_IS_DIRECTORY')
    expect(message).toContain('rm -r')
    expect(existsSync(disk('gone/one.txt'))).toBe(true)
    expect(expectJson(await del('/api/v1/files/gone?recursive=1'))).toEqual({
      name: 'gone',
      files: 3,
      folder: true,
    })
    expect(existsSync(disk('gone'))).toBe(false)
    expectError(await del('/api/v1/files/gone?recursive=1'), 404, 'ERR_NOT_FOUND')
    const log = expectJson(await get(base, '/api/v1/log?limit=5')).entries as {
      op: string
      name: string
      detail: string | null
    }[]
    expect(log.filter((e) => e.op === 'delete' && e.name === 'gone').map((e) => e.detail)).toEqual([
      'folder, 3 files',
    ])
  })

  it('DELETE /delete/<folder>?recursive=true (the source design’s endpoint) follows the same rule', async () => {
    make(['old-api/x.txt', 'old-api/y/z.txt'])
    expectError(await del('/delete/old-api'), 400, 'ERR_IS_DIRECTORY')
    expect(expectJson(await del('/delete/old-api?recursive=true'))).toMatchObject({ files: 2 })
    expect(existsSync(disk('old-api'))).toBe(false)
  })

  it('a user lock on one file refuses the folder’s delete and rename (423), nothing changes', async () => {
    make(['held/a.txt', 'held/b.txt'])
    expectJson(
      await httpRequest(base, '/api/v1/locks/held%2Fb.txt', {
        method: 'POST',
        clientId: 'owner',
        json: {},
      }),
    )
    for (const who of [ID, 'owner']) {
      expectError(await del('/api/v1/files/held?recursive=1', who), 423, 'ERR_LOCKED')
      expectError(
        await httpRequest(base, '/api/v1/rename', {
          method: 'POST',
          clientId: who,
          json: { from: 'held', to: 'held-2' },
        }),
        423,
        'ERR_LOCKED',
      )
    }
    expect(existsSync(disk('held/a.txt'))).toBe(true)
    expect(existsSync(disk('held-2'))).toBe(false)
  })

  it('POST /api/v1/rename and PUT /rename/<old>/<new> move a folder; into itself 400, onto a name 409', async () => {
    make(['mv-src/a.txt', 'mv-src/sub/b.txt', 'mv-taken.txt'])
    const rename = (from: string, to: string) =>
      httpRequest(base, '/api/v1/rename', { method: 'POST', clientId: ID, json: { from, to } })
    expectError(await rename('mv-src', 'mv-src/inner'), 400, 'ERR_BAD_PATH')
    expectError(await rename('mv-src', 'mv-taken.txt'), 409, 'ERR_EXISTS')
    expect(expectJson(await rename('mv-src', 'mv-dst/nested'))).toEqual({
      from: 'mv-src',
      to: 'mv-dst/nested',
      files: 2,
      folder: true,
    })
    expect(existsSync(disk('mv-dst/nested/sub/b.txt'))).toBe(true)
    expect(existsSync(disk('mv-src'))).toBe(false)
    const moved = await httpRequest(base, '/rename/mv-dst%2Fnested/mv-back', {
      method: 'PUT',
      clientId: ID,
    })
    expect(expectJson(moved)).toMatchObject({ from: 'mv-dst/nested', to: 'mv-back', files: 2 })
    expect(existsSync(disk('mv-back/a.txt'))).toBe(true)
    expect(existsSync(disk('mv-dst'))).toBe(false) // the parent it left empty is gone too
  })
})
