// Review findings against docs/HTTP.md, each a failing test against a real server.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  expectJson,
  httpRequest,
  sha256,
  startServer,
  type ServerHandle,
} from '../helpers/index.js'

describe('review: HTTP', () => {
  let server: ServerHandle
  let base: string
  beforeAll(async () => {
    server = await startServer({ http: true })
    base = server.httpUrl!
  })

  it('POST /upload multipart of a file over 1 MiB is stored whole (docs: no limit but the disk)', async () => {
    const content = Buffer.alloc(2 * 1024 * 1024 + 17, 0x61)
    const form = new FormData()
    form.append('file', new Blob([content]), 'big-form.bin')
    const reply = await httpRequest(base, '/upload', { method: 'POST', body: form })
    const body = expectJson(reply)
    expect(body).toMatchObject({ name: 'big-form.bin', size: content.length, sha256: sha256(content) })
    expect(readFileSync(path.join(server.root, 'big-form.bin')).length).toBe(content.length)
  })
})
