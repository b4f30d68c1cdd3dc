// One entry that cannot be applied must not hold back the rest of a peer's stream: a file/folder
// clash resolves (the folder wins, the file is kept as its conflict copy); what cannot be applied
// at all is set aside with its reason (status shows it), retried, and applied once it can be.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  sha256Of,
  startCluster,
  waitConverged,
  waitFor,
  waitPeersUp,
  waitTree,
  TANDEM_BIN,
  type ClusterServer,
} from '../helpers/index.js'

const EDIT = 'edited on B\n'

async function setAsideAt(server: ClusterServer) {
  return (await server.status()).sync.setAside ?? []
}

describe('an entry that cannot be applied here', () => {
  it('a file replaced by a folder on A while B edits it: later changes flow, nothing is lost', async () => {
    const [a, b] = await startCluster(2)
    fs.writeFileSync(`${a.root}/rep.txt`, 'first\n')
    await waitTree([b], new Map([['rep.txt', sha256Of('first\n')]]))
    // Both changes made while B is stopped, so that they meet as concurrent versions.
    await b.stop()
    fs.rmSync(`${a.root}/rep.txt`)
    fs.mkdirSync(`${a.root}/rep.txt`)
    fs.writeFileSync(`${a.root}/rep.txt/inner`, 'inner\n')
    fs.writeFileSync(`${b.root}/rep.txt`, EDIT)
    await b.start()
    await waitPeersUp(b, 1)
    fs.writeFileSync(`${a.root}/later.txt`, 'later\n')
    await waitFor(() => fs.existsSync(`${b.root}/later.txt`), {
      timeoutMs: 5_000,
      what: 'a later, unrelated change of A at B',
    })
    // The folder wins on both; B's edit is kept, as the same conflict copy, on both.
    const tree = await waitConverged([a, b], { timeoutMs: 10_000 })
    expect(tree.get('rep.txt/inner')).toBe(sha256Of('inner\n'))
    const copies = [...tree].filter(([, sha]) => sha === sha256Of(EDIT)).map(([name]) => name)
    expect(copies).toHaveLength(1)
    expect(copies[0]).toMatch(/^rep\.sync-conflict-\d{8}-\d{6}-B\.txt$/)
    expect(await setAsideAt(b)).toEqual([])
    expect(await setAsideAt(a)).toEqual([])
    // And the stream goes on in both directions.
    fs.writeFileSync(`${b.root}/back.txt`, 'back\n')
    await waitFor(() => fs.existsSync(`${a.root}/back.txt`), { what: 'back.txt at A' })
  }, 60_000)

  it('is set aside with its reason, shown by status, and applied once it can be', async () => {
    const [a, b] = await startCluster(2)
    // On B, `blocked` is a symlink to a file: nothing can be put below it, and tandem never
    // moves a symlink.
    fs.writeFileSync(`${b.root}/target.txt`, 'target\n')
    fs.symlinkSync('target.txt', `${b.root}/blocked`)
    fs.mkdirSync(`${a.root}/blocked`)
    fs.writeFileSync(`${a.root}/blocked/inner.txt`, 'inner\n')
    const aside = await waitFor(
      async () => (await setAsideAt(b)).find((e) => e.name === 'blocked/inner.txt'),
      { timeoutMs: 10_000, what: 'blocked/inner.txt set aside at B' },
    )
    expect(aside.peer).toBe('A')
    expect(aside.code).toMatch(/^ERR_/)
    expect(aside.attempts).toBeGreaterThanOrEqual(1)
    await waitFor(() => b.output().includes('set aside blocked/inner.txt from A'), {
      what: "B's console to say it set the entry aside",
    })
    // Later changes of A still arrive, and A is 'up' at B, nothing behind.
    for (const n of [1, 2, 3]) fs.writeFileSync(`${a.root}/after-${n}.txt`, `after ${n}\n`)
    await waitFor(async () => [1, 2, 3].every((n) => fs.existsSync(`${b.root}/after-${n}.txt`)), {
      timeoutMs: 5_000,
      what: 'later files at B',
    })
    const peer = (await b.status()).peers.find((p) => p.name === 'A')
    expect(peer?.state).toBe('up')
    // The person's `status` says it too: what is set aside, from whom, and why.
    const human = execFileSync(process.execPath, [TANDEM_BIN, '--server', b.address, 'status'], {
      encoding: 'utf8',
    })
    expect(human).toMatch(/aside +1 change from peers set aside here/)
    expect(human).toMatch(/blocked\/inner\.txt +A +.*ERR_EXISTS/)
    // Survives a restart of B: the row is kept, though A's progress moved past it.
    await b.restart()
    await waitPeersUp(b, 1)
    expect((await setAsideAt(b)).map((e) => e.name)).toContain('blocked/inner.txt')
    // Remove what blocks it: the next attempt applies it.
    fs.rmSync(`${b.root}/blocked`)
    await waitFor(async () => fs.existsSync(`${b.root}/blocked/inner.txt`), {
      timeoutMs: 40_000,
      what: 'blocked/inner.txt applied at B',
    })
    expect(fs.readFileSync(`${b.root}/blocked/inner.txt`, 'utf8')).toBe('inner\n')
    await waitFor(async () => (await setAsideAt(b)).length === 0, { what: 'set-aside cleared' })
    await waitFor(() => b.output().includes('blocked/inner.txt from A is no longer set aside'), {
      what: "B's console to say it is no longer set aside",
    })
  }, 90_000)
})
