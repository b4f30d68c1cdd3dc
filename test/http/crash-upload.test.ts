// kill -9 of the server while an HTTP upload's body is still arriving, then a restart on the same
// directories: the old file or none, never torn, and no temp file after the restart. And a
// SIGTERM during one: new requests refused, the partial upload removed, exit 0.
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  expectJson,
  get,
  httpRequest,
  sha256,
  startRequest,
  startServer,
  tempBytes,
  tempFilesIn,
  waitFor,
  type ServerHandle,
} from '../helpers/index.js'

const MiB = 1024 * 1024
const DECLARED = 64 * MiB

/**
 * Start a 64 MiB upload of `name` (raw body, Content-Length given), send 4 MiB, wait until the
 * server has some of it in a temp file, and kill -9 the server with the rest never sent.
 */
async function killMidUpload(server: ServerHandle, method: string, url: string): Promise<void> {
  const upload = startRequest(server.httpUrl!, {
    method,
    path: url,
    headers: { 'content-type': 'application/octet-stream', 'content-length': DECLARED },
  })
  const piece = Buffer.alloc(MiB, 0x6e)
  for (let i = 0; i < 4; i++) await upload.write(piece)
  await waitFor(() => tempBytes(server.root) > 0, {
    timeoutMs: 15_000,
    what: 'part of the body in a temp file',
  })
  await server.kill9()
  await expect(upload.response).rejects.toThrow()
  expect(tempFilesIn(server.root).length, 'the crash left its temp file').toBeGreaterThan(0)
}

async function restartClean(server: ServerHandle): Promise<ServerHandle> {
  const next = await server.restart()
  expect(tempFilesIn(next.root)).toEqual([])
  const names = expectJson<{ name: string }[]>(await get(next.httpUrl!, '/list')).map((r) => r.name)
  expect(names.filter((n) => n.includes('.tandem-tmp-'))).toEqual([])
  return next
}

describe('kill -9 during an HTTP upload', () => {
  it('a new file: absent after the restart', async () => {
    const server = await startServer({ http: true })
    await killMidUpload(server, 'POST', '/upload?name=incoming%2Fnew.bin')
    const next = await restartClean(server)
    expect(existsSync(path.join(next.root, 'incoming', 'new.bin'))).toBe(false)
    const reply = await get(next.httpUrl!, '/download/incoming%2Fnew.bin')
    expect(reply.status).toBe(404)
  })

  it('replacing a file: the old version, whole', async () => {
    const server = await startServer({ http: true })
    const old = Buffer.alloc(3 * MiB + 17, 'old version ')
    expectJson(
      await httpRequest(server.httpUrl!, '/api/v1/files/kept.bin', { method: 'PUT', body: old }),
      201,
    )
    await killMidUpload(server, 'PUT', '/api/v1/files/kept.bin')
    const next = await restartClean(server)
    expect(sha256(readFileSync(path.join(next.root, 'kept.bin')))).toBe(sha256(old))
    const reply = await get(next.httpUrl!, '/download/kept.bin')
    expect(reply.status).toBe(200)
    expect(sha256(reply.body)).toBe(sha256(old))
  })

  it('SIGTERM during an upload: new requests refused, the partial upload removed, exit 0', async () => {
    const server = await startServer({ http: true })
    const base = server.httpUrl!
    const upload = startRequest(base, {
      method: 'POST',
      path: '/upload?name=cut.bin',
      headers: { 'content-type': 'application/octet-stream', 'content-length': DECLARED },
    })
    for (let i = 0; i < 4; i++) await upload.write(Buffer.alloc(MiB, 0x74))
    await waitFor(() => tempBytes(server.root) > 0, { timeoutMs: 15_000, what: 'the temp file' })
    const exit = server.stop('SIGTERM')
    // Once it says it stops (a request sent with the signal may still be served before the
    // signal is handled): a new request is refused (503 ERR_SHUTTING_DOWN), or finds no listener.
    await waitFor(() => server.output().includes('stopping:'), { what: 'the server to stop' })
    const late = await httpRequest(base, '/list', { clientId: 'late' }).catch(() => undefined)
    if (late !== undefined) {
      expect(late.status, late.text).toBe(503)
      expect(late.json().error.code).toBe('ERR_SHUTTING_DOWN')
    }
    expect(await exit).toBe(0)
    await expect(upload.response).rejects.toThrow()
    expect(tempFilesIn(server.root)).toEqual([])
    expect(existsSync(path.join(server.root, 'cut.bin'))).toBe(false)
  })
})
