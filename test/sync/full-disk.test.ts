// A full disk holds back only what does not fit: with B's root on a small tmpfs, a file too big
// for it waits, set aside with the bytes it needs, while smaller files made after it arrive; once
// the tmpfs is remounted bigger, it arrives whole (SHA-256 checked). Needs root (mount), as CI is.
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  canMountTmpfs,
  fileSha256,
  mountTmpfs,
  resizeTmpfs,
  startCluster,
  waitFor,
  writeRandomFile,
} from '../helpers/index.js'

const MiB = 1 << 20

describe.skipIf(!canMountTmpfs())('a full disk', () => {
  it('holds back only the file that does not fit, which arrives once there is room', async () => {
    const [a, b] = await startCluster(2, {
      beforeStart: (servers) => mountTmpfs(servers[1]!.root, 40),
    })
    // Written beside the root and renamed in, so that A indexes only the whole file.
    const staging = path.join(path.dirname(a.root), 'big.bin')
    const bigSha = await writeRandomFile(staging, 60 * MiB)
    fs.renameSync(staging, `${a.root}/big.bin`)
    const aside = await waitFor(
      async () => (await b.status()).sync.setAside?.find((e) => e.name === 'big.bin'),
      { timeoutMs: 20_000, what: 'big.bin set aside at B' },
    )
    expect(aside.code).toBe('ERR_NO_SPACE')
    expect(aside.neededBytes).toBe(60 * MiB)
    expect(aside.peer).toBe('A')
    // Three small files made after it arrive while it cannot.
    for (const n of [1, 2, 3]) fs.writeFileSync(`${a.root}/small-${n}.txt`, `small ${n}\n`)
    await waitFor(() => [1, 2, 3].every((n) => fs.existsSync(`${b.root}/small-${n}.txt`)), {
      timeoutMs: 5_000,
      what: 'the small files at B',
    })
    for (const n of [1, 2, 3])
      expect(fs.readFileSync(`${b.root}/small-${n}.txt`, 'utf8')).toBe(`small ${n}\n`)
    expect(fs.existsSync(`${b.root}/big.bin`)).toBe(false)
    expect((await b.status()).peers.find((p) => p.name === 'A')?.state).toBe('up')
    await waitFor(() => b.output().includes('set aside big.bin from A'), {
      what: "B's console to say big.bin is set aside",
    })
    // B keeps serving clients meanwhile.
    expect(await b.list()).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'small-1.txt' })]),
    )
    // Room again: it arrives, whole.
    resizeTmpfs(b.root, 200)
    await waitFor(async () => (await fileSha256(`${b.root}/big.bin`)) === bigSha, {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: 'big.bin at B with its SHA-256',
    })
    await waitFor(async () => ((await b.status()).sync.setAside ?? []).length === 0, {
      what: 'the set-aside entry cleared',
    })
  }, 120_000)
})
