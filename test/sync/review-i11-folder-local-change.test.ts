// A client's folder rename and rm -r are the server's own work: neither the server that did them
// nor the peer that mirrors them logs them as `local-change`, also through the CLI, whose session
// ends right after the reply (the own-writes notice is in before the reply goes out).
import { describe, expect, it } from 'vitest'
import { runCli } from '../client/run-cli.js'
import { startCluster, waitFor, waitTree, sha256Of } from '../helpers/index.js'

describe('review i11: client folder operations are not local changes', () => {
  it('mv of a folder and rm -r by a client: no local-change entries for them', async () => {
    const [a, b] = await startCluster(2)
    const files = new Map<string, string>()
    for (let i = 0; i < 12; i++) {
      const name = `proj/${i % 3 === 0 ? 'sub/' : ''}f${i}.txt`
      const content = `content ${i}\n`
      // Uploaded by a client: none of this is another program's either.
      const put = await runCli(['--server', a.address, 'create', name, '--text', content])
      expect(put.code, put.stderr).toBe(0)
      files.set(name, sha256Of(content))
    }
    await waitTree([a, b], files, 20_000)
    const followA = a.followLog()
    const followB = b.followLog()

    const mv = await runCli(['--server', a.address, 'mv', 'proj', 'moved'])
    expect(mv.code, mv.stderr).toBe(0)
    const moved = new Map([...files].map(([n, h]) => [n.replace(/^proj\//, 'moved/'), h]))
    await waitTree([a, b], moved, 20_000)
    const rm = await runCli(['--server', a.address, 'rm', '-r', 'moved'])
    expect(rm.code, rm.stderr).toBe(0)
    await waitTree([a, b], new Map(), 20_000)

    // Both servers have indexed the folder operations (B has them from A's index). A marker by
    // another program on each side then comes after them: reports leave in order, so any about
    // the folder operations would be in by the time the marker's is.
    await a.write('marker-a.txt', 'a')
    await b.write('marker-b.txt', 'b')
    await waitFor(
      () =>
        followA.entries().some((e) => e.op === 'local-change' && e.name === 'marker-a.txt') &&
        followB.entries().some((e) => e.op === 'local-change' && e.name === 'marker-b.txt'),
      { what: 'both markers', timeoutMs: 20_000 },
    )
    const local = (entries: Record<string, unknown>[]) =>
      entries
        .filter((e) => e.op === 'local-change' && !String(e.name).startsWith('marker-'))
        .map((e) => `${String(e.what)} ${String(e.name)}${e.to ? ` → ${String(e.to)}` : ''}`)
    expect(local(followA.entries())).toEqual([])
    expect(local(followB.entries())).toEqual([])
  })
})
