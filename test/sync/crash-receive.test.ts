// kill -9 of a server in the middle of receiving a big file from its peer: the file under its name
// is the old version or the new, never torn, both before and after the restart, and the cluster
// then converges on the new version with no temp file left behind.
import { randomFillSync } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  fileSha256,
  sha256Of,
  startCluster,
  tempFilesIn,
  waitFor,
  waitTree,
  writeRandomFile,
} from '../helpers/index.js'

const MiB = 1024 * 1024
const NEW_SIZE = 128 * MiB

describe('kill -9 while receiving', () => {
  it('B killed mid-pull of a 128 MiB file holds old or new, never torn, and converges', async () => {
    const [a, b] = await startCluster(2)
    const old = randomFillSync(Buffer.alloc(MiB))
    const oldSha = sha256Of(old)
    await a.write('big.bin', old)
    await waitTree([a, b], new Map([['big.bin', oldSha]]))

    // The new version appears on A at once (renamed in from beside the root), so A itself only
    // ever has the two versions.
    const staging = path.join(path.dirname(a.root), 'staging.bin')
    const newSha = await writeRandomFile(staging, NEW_SIZE)
    await fs.rename(staging, a.file('big.bin'))

    await waitFor(async () => tempFilesIn(b.root).length > 0, {
      timeoutMs: 15_000,
      intervalMs: 5,
      what: 'a temp file in B’s directory (B receiving big.bin)',
    })
    await b.kill9()
    const whole = new Set([oldSha, newSha])
    const afterKill = await fileSha256(b.file('big.bin'))
    expect(whole.has(afterKill ?? 'absent'), 'B’s big.bin right after kill -9').toBe(true)

    await b.start()
    const afterRestart = await fileSha256(b.file('big.bin'))
    expect(whole.has(afterRestart ?? 'absent'), 'B’s big.bin right after the restart').toBe(true)

    await waitTree([a, b], new Map([['big.bin', newSha]]), 30_000)
    expect(tempFilesIn(b.root)).toEqual([])
  }, 60_000)
})
