// An upload receives its body into a temp file beside its target with no lock held (ops/body.ts);
// a folder rename or rm -r locks the folder's files, not bodies on their way in. The folder
// operation wins: the rename takes the temp file along, rm -r removes it; either way the upload
// fails at its commit with a message that says why, nothing is stored under any name, the deleted
// folder does not come back, and the server goes on serving. (A temp file taken along is hidden,
// and removed at the next start.)
import { readdirSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import type { ServerHandle } from '../helpers/index.js'
import { startServer, TestClient, waitFor } from '../helpers/index.js'

/** Every file under `dir` but the server's temp files, sorted. */
function allFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && !e.name.startsWith('.tandem-tmp-'))
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort()
}

/**
 * proj/a.txt stored, and an upload of proj/new.bin held halfway (its temp file in proj/) until
 * `go()`. `folderOp` runs meanwhile, through `setup`.
 */
async function uploadDuring(
  server: ServerHandle,
  folderOp: (setup: TestClient) => Promise<{ ok: boolean; error?: unknown }>,
) {
  const setup = await TestClient.connect(server.port, { clientId: 'setup' })
  const uploader = await TestClient.connect(server.port, { clientId: 'uploader' })
  expect((await setup.create('proj/a.txt', Buffer.from('a\n'))).ok).toBe(true)
  let go!: () => void
  const released = new Promise<void>((resolve) => (go = resolve))
  async function* body(): AsyncIterable<Uint8Array> {
    yield Buffer.alloc(64 * 1024, 1)
    await released
    yield Buffer.alloc(64 * 1024, 2)
  }
  const upload = uploader.upload('proj/new.bin', body(), { size: 128 * 1024 })
  await waitFor(() => readdirSync(path.join(server.root, 'proj')).length === 2, {
    what: "the upload's temp file beside a.txt",
  })
  const op = await folderOp(setup)
  expect(op.ok, JSON.stringify(op.error)).toBe(true)
  go()
  const reply = await upload
  expect(reply.ok).toBe(false)
  expect(reply.error?.code).toBe('ERR_NOT_FOUND')
  expect(reply.error?.message).toMatch(
    /the folder 'proj' was renamed or deleted while 'proj\/new\.bin' was arriving; nothing was stored/,
  )
  return { setup, uploader }
}

describe('an upload into a folder while the folder is renamed or deleted', () => {
  it('a rename wins: the upload fails saying so, and the same upload again is stored', async () => {
    const server = await startServer()
    const { setup, uploader } = await uploadDuring(server, (c) => c.rename('proj', 'moved'))
    expect(allFiles(server.root)).toEqual(['moved/a.txt'])
    expect((await uploader.upload('proj/new.bin', Buffer.alloc(10, 3))).ok).toBe(true)
    expect(allFiles(server.root)).toEqual(['moved/a.txt', 'proj/new.bin'])
    await setup.close()
    await uploader.close()
  })

  it('rm -r wins: the upload fails, and the folder stays deleted on disk and in the listing', async () => {
    const server = await startServer()
    const { setup, uploader } = await uploadDuring(server, (c) =>
      c.delete('proj', { recursive: true }),
    )
    expect(allFiles(server.root)).toEqual([])
    expect(readdirSync(server.root).filter((e) => !e.startsWith('.tandem-tmp-'))).toEqual([])
    expect((await setup.list()).result!.files).toEqual([])
    await setup.close()
    await uploader.close()
  })
})
