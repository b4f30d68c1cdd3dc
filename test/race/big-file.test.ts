// Uploads and downloads of one 8 MiB file at the same time: every download is one whole version
// that some client uploaded, never a mix of two, never a prefix.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { startServer, tempFilesIn, TestClient } from '../helpers/index.js'

const SIZE = 8 * 1024 * 1024
const BLOCK = 4096

/** Version `v`: every 4 KiB block starts with "v<version> b<block>;", so a mix shows. */
function version(v: number): Buffer {
  const buf = Buffer.alloc(SIZE, v % 251)
  for (let block = 0; block < SIZE / BLOCK; block++)
    buf.write(`v${v} b${block};`, block * BLOCK, 'latin1')
  return buf
}

/** The versions found in `body`'s blocks (one, for a whole version). */
function versionsIn(body: Buffer): Set<string> {
  const found = new Set<string>()
  for (let offset = 0; offset < body.length; offset += BLOCK) {
    const match = /^v(\d+) b(\d+);/.exec(body.subarray(offset, offset + 24).toString('latin1'))
    found.add(match && Number(match[2]) === offset / BLOCK ? match[1]! : `garbage at ${offset}`)
  }
  return found
}

describe('one big file, written and read at once', () => {
  it('every download of an 8 MiB file is one whole version', async () => {
    const server = await startServer()
    const uploaders = await Promise.all(
      [0, 1].map((i) => TestClient.connect(server.port, { clientId: `up${i}` })),
    )
    const downloaders = await Promise.all(
      [0, 1, 2].map((i) => TestClient.connect(server.port, { clientId: `down${i}` })),
    )
    expect((await uploaders[0]!.upload('big.bin', version(0))).ok).toBe(true)

    const uploaded = new Set<string>(['0'])
    const seen: string[] = []
    const problems: string[] = []
    let uploading = true
    const upload = async (client: TestClient, first: number) => {
      for (let v = first; v < first + 6; v += 2) {
        uploaded.add(String(v))
        const reply = await client.upload('big.bin', version(v))
        if (!reply.ok) problems.push(`upload v${v}: ${reply.error?.code}`)
      }
    }
    const download = async (client: TestClient) => {
      // Keep reading while uploads run, and at least three times.
      for (let i = 0; uploading || i < 3; i++) {
        const reply = await client.download('big.bin')
        if (!reply.ok) {
          problems.push(`download: ${reply.error?.code}`)
          continue
        }
        if (reply.body!.length !== SIZE) problems.push(`download of ${reply.body!.length} bytes`)
        if (!reply.bodyIntact) problems.push('download body does not match its SHA-256')
        const versions = versionsIn(reply.body!)
        if (versions.size !== 1)
          problems.push(`a mixed download: ${[...versions].slice(0, 5).join(', ')}`)
        const [v] = versions
        if (v !== undefined && !uploaded.has(v)) problems.push(`a version nobody uploaded: ${v}`)
        seen.push(v ?? '?')
      }
    }
    const uploads = Promise.all([upload(uploaders[0]!, 1), upload(uploaders[1]!, 2)]).finally(
      () => (uploading = false),
    )
    await Promise.all([uploads, ...downloaders.map(download)])

    expect(problems).toEqual([])
    const final = versionsIn(readFileSync(path.join(server.root, 'big.bin')))
    expect(final.size).toBe(1)
    expect(uploaded.has([...final][0]!)).toBe(true)
    expect(tempFilesIn(server.root)).toEqual([])
    console.log(`big file: ${seen.length} downloads saw versions ${seen.join(' ')}`)
    await Promise.all([...uploaders, ...downloaders].map((c) => c.close()))
  }, 180_000)
})
