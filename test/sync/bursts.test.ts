// Bursts of changes made by another program: a new folder filled at once (its files are made
// before the watcher watches it), and a few hundred files written in a row. Everything reaches
// the peer well before the periodic rescan (every 15 s) could have found it.
import fs from 'node:fs'
import { describe, it } from 'vitest'
import { sha256Of, startCluster, tempDir, waitTree } from '../helpers/index.js'

describe('bursts of changes on disk', () => {
  it('a folder made and filled at once (1,000 files, nested) reaches the peer whole', async () => {
    const [a, b] = await startCluster(2)
    const expected = new Map<string, string>()
    fs.mkdirSync(`${a.root}/burst/deep`, { recursive: true })
    for (let i = 0; i < 1000; i++) {
      const name = i % 3 ? `burst/f${i}.txt` : `burst/deep/f${i}.txt`
      fs.writeFileSync(`${a.root}/${name}`, `content ${i}\n`)
      expected.set(name, sha256Of(`content ${i}\n`))
    }
    await waitTree([b], expected, 15_000)
  }, 45_000)

  it('each file rewritten right after it was made: the peer ends with every last version', async () => {
    const [a, b] = await startCluster(2)
    const expected = new Map<string, string>()
    for (let i = 0; i < 50; i++) {
      const file = `${a.root}/twice${i}.txt`
      fs.writeFileSync(file, 'first\n')
      fs.writeFileSync(file, `second ${i}\n`)
      expected.set(`twice${i}.txt`, sha256Of(`second ${i}\n`))
    }
    await waitTree([b], expected, 15_000)
  }, 45_000)
})

describe('uploads and other programs', () => {
  it('an upload rewritten by another program right after (same size) reaches the peer rewritten', async () => {
    const [a, b] = await startCluster(2)
    const local = tempDir('tandem-upload-')
    for (let i = 0; i < 10; i++) {
      const name = `up${i}.txt`
      fs.writeFileSync(`${local}/${name}`, `uploaded ${i}\n`)
      await a.cli('put', `${local}/${name}`, name)
      // Same length, other bytes: only the content tells them apart.
      fs.writeFileSync(`${a.root}/${name}`, `REWRITE ${i}\n`.padEnd(`uploaded ${i}\n`.length, '!'))
    }
    const expected = new Map<string, string>()
    for (let i = 0; i < 10; i++)
      expected.set(`up${i}.txt`, sha256Of(fs.readFileSync(`${a.root}/up${i}.txt`)))
    await waitTree([b], expected, 15_000)
  }, 45_000)
})
