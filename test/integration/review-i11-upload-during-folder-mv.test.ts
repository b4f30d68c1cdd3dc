// An upload receives its body into a temp file beside its target with no lock held (ops/body.ts);
// a folder rename locks the folder's files, not bodies on their way in, and takes the temp file
// along. The rename wins: the upload fails at its commit with a message that says why, nothing is
// stored under either name, and the files already there are untouched. (The orphaned temp file
// is hidden, and removed at the next start.)
import { readdirSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { startServer, TestClient, waitFor } from '../helpers/index.js'

function allFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort()
}

describe('review i11: an upload into a folder while the folder is renamed', () => {
  it('the upload fails saying the folder moved, and nothing is stored', async () => {
    const server = await startServer()
    const setup = await TestClient.connect(server.port, { clientId: 'setup' })
    expect((await setup.create('proj/a.txt', Buffer.from('a\n'))).ok).toBe(true)

    let go!: () => void
    const released = new Promise<void>((resolve) => (go = resolve))
    let started = false
    async function* body(): AsyncIterable<Uint8Array> {
      yield Buffer.alloc(64 * 1024, 1)
      started = true
      await released
      yield Buffer.alloc(64 * 1024, 2)
    }
    const uploader = await TestClient.connect(server.port, { clientId: 'uploader' })
    const upload = uploader.upload('proj/new.bin', body(), { size: 128 * 1024 })
    await waitFor(() => started, { what: 'the upload under way' })
    // The temp file of the upload exists in proj/ by now.
    await waitFor(() => readdirSync(path.join(server.root, 'proj')).length === 2, {
      what: "the upload's temp file",
    })

    const mv = await setup.rename('proj', 'moved')
    expect(mv.ok, JSON.stringify(mv.error)).toBe(true)
    go()
    const reply = await upload
    expect(reply.ok).toBe(false)
    expect(reply.error?.code).toBe('ERR_NOT_FOUND')
    expect(reply.error?.message).toMatch(
      /the folder 'proj' was renamed or deleted while 'proj\/new\.bin' was arriving; nothing was stored/,
    )
    expect(
      allFiles(server.root).filter((f) => !path.basename(f).startsWith('.tandem-tmp-')),
    ).toEqual(['moved/a.txt'])
    // The server goes on: the same upload again lands where it was asked to.
    expect((await uploader.upload('proj/new.bin', Buffer.alloc(10, 3))).ok).toBe(true)
    await setup.close()
    await uploader.close()
  })
})
