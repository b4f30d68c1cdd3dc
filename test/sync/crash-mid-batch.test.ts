// kill -9 of a server while it applies a burst of small files (published in groups: rename, then
// one directory fsync per folder, then one index transaction per group): every file under its
// name is whole, right after the kill and after the restart, and the two converge with no temp
// file left.
import { randomFillSync } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { sha256Of, startCluster, tempFilesIn, waitFor, waitTree } from '../helpers/index.js'

const COUNT = 1000

describe('kill -9 in the middle of a burst', () => {
  it('B killed while applying 1,000 small files: no torn file, converges after restart', async () => {
    const [a, b] = await startCluster(2)
    await a.write('keep.txt', 'keep')
    await waitTree([a, b], new Map([['keep.txt', sha256Of(Buffer.from('keep'))]]))

    const expected = new Map<string, string>([['keep.txt', sha256Of(Buffer.from('keep'))]])
    const bodies = new Map<string, Buffer>()
    // Written beside A's root, then moved in at once: A indexes them as one burst.
    const staging = path.join(path.dirname(a.root), 'staging')
    for (let i = 0; i < COUNT; i++) {
      const name = `burst/d${i % 4}/f${i}.bin`
      const body = randomFillSync(Buffer.alloc(512 + (i % 7) * 300))
      await fs.mkdir(path.dirname(path.join(staging, name)), { recursive: true })
      await fs.writeFile(path.join(staging, name), body)
      expected.set(name, sha256Of(body))
      bodies.set(name, body)
    }
    await fs.rename(path.join(staging, 'burst'), a.file('burst'))

    const arrivedAtB = async (): Promise<string[]> => {
      const out: string[] = []
      for (let d = 0; d < 4; d++)
        out.push(
          ...(await fs.readdir(b.file(`burst/d${d}`)).catch(() => [] as string[]))
            .filter((n) => !n.startsWith('.tandem-tmp-'))
            .map((n) => `burst/d${d}/${n}`),
        )
      return out
    }
    await waitFor(async () => (await arrivedAtB()).length >= 100, {
      timeoutMs: 30_000,
      intervalMs: 5,
      what: 'B holding the first files of the burst',
    })
    await b.kill9()

    const whole = async (): Promise<void> => {
      for (const name of await arrivedAtB()) {
        const got = await fs.readFile(b.file(name))
        expect(got.equals(bodies.get(name)!), `${name} at B is whole`).toBe(true)
      }
    }
    const partial = (await arrivedAtB()).length
    await whole()
    expect(partial, 'B was killed before it held the whole burst').toBeLessThan(COUNT)

    await b.start()
    await whole()
    await waitTree([a, b], expected, 60_000)
    expect(tempFilesIn(b.root)).toEqual([])
  }, 120_000)
})
