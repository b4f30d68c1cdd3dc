// A folder deleted while an upload into it is arriving wins, as a renamed one does: `rm -r`
// removes the folder's files and the temp files of bodies still arriving in it, so the upload
// fails at its commit saying its folder went, and the deleted folder does not come back.
import { readdirSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { startServer, TestClient, waitFor } from '../helpers/index.js'

function allFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .filter((f) => !path.basename(f).startsWith('.tandem-tmp-'))
    .sort()
}

describe('review2 i11: an upload into a folder while the folder is deleted', () => {
  it('rm -r wins as documented: the upload fails and the folder stays deleted', async () => {
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
    await waitFor(() => readdirSync(path.join(server.root, 'proj')).length === 2, {
      what: "the upload's temp file",
    })

    const rm = await setup.delete('proj', { recursive: true })
    expect(rm.ok, JSON.stringify(rm.error)).toBe(true)
    go()
    const reply = await upload
    const listed = await setup.list()
    const names = listed.result!.files.map((f) => f.name)
    await setup.close()
    await uploader.close()
    // As documented: the delete wins.
    expect({ uploadOk: reply.ok, onDisk: allFiles(server.root), listed: names }).toEqual({
      uploadOk: false,
      onDisk: [],
      listed: [],
    })
  })
})
