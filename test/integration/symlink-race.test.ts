// A symlink inside the data directory that another local program keeps re-pointing, between a
// folder inside the root and one outside it, while a client reads and writes through it. Checking
// the path and then opening it is a race (time of check, time of use): nothing may be read from
// or written to the outside folder all the same.
import { spawn } from 'node:child_process'
import { lstatSync, mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  registerCleanup,
  startServer,
  tempDir,
  TestClient,
  waitFor,
  walkTree,
} from '../helpers/index.js'

/** Re-points `link` at `a` and `b` in turn, atomically (symlink + rename), as fast as it can. */
const FLIPPER = `
const fs = require('node:fs')
const [link, a, b] = process.argv.slice(1)
for (let n = 0; ; n++) {
  const tmp = link + '.flip' + (n % 2)
  fs.rmSync(tmp, { force: true })
  fs.symlinkSync(n % 2 ? b : a, tmp)
  fs.renameSync(tmp, link)
}`

describe('a symlink re-pointed while it is used', () => {
  it('never lets a read or a write reach the folder outside the root', async () => {
    const base = tempDir()
    const root = path.join(base, 'root')
    const outside = path.join(base, 'outside')
    mkdirSync(path.join(root, 'real'), { recursive: true })
    mkdirSync(outside)
    mkdirSync(path.join(base, 'state'))
    writeFileSync(path.join(root, 'real', 'doc.txt'), 'inside')
    writeFileSync(path.join(outside, 'doc.txt'), 'SECRET')
    const server = await startServer({ root, stateDir: path.join(base, 'state') })
    const flipper = spawn(
      process.execPath,
      ['-e', FLIPPER, path.join(root, 'swap'), path.join(root, 'real'), outside],
      {
        stdio: 'ignore',
      },
    )
    registerCleanup(() => void flipper.kill('SIGKILL'))
    const swap = path.join(root, 'swap')
    await waitFor(() => lstatSync(swap, { throwIfNoEntry: false })?.isSymbolicLink(), {
      what: 'the flipper to start',
    })
    const client = await TestClient.connect(server.port)
    const outcomes: Record<string, number> = {}
    let secretsRead = 0
    for (let i = 0; i < 300; i++) {
      const [up, down] = await Promise.all([
        client.upload(`swap/new-${i}.txt`, Buffer.from('written')),
        client.download('swap/doc.txt'),
      ])
      for (const [what, reply] of [
        ['upload', up],
        ['download', down],
      ] as const) {
        const key = `${what} ${reply.ok ? 'ok' : reply.error?.code}`
        outcomes[key] = (outcomes[key] ?? 0) + 1
      }
      if (down.body?.toString() === 'SECRET') secretsRead++
    }
    const flipperAlive = flipper.exitCode === null
    flipper.kill('SIGKILL')
    const written = walkTree(outside).filter((name) => name !== 'doc.txt')
    console.log(
      `symlink race: ${JSON.stringify(outcomes)}; secrets read ${secretsRead}; files written outside ${written.length}`,
    )
    expect(secretsRead).toBe(0)
    expect(written).toEqual([])
    expect(flipperAlive, 'the flipper died early: the test proved nothing').toBe(true)
  }, 120_000)
})
