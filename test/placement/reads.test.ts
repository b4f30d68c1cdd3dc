// Reads anywhere, with --replicas 2 of 3: a member asked for a file it does not hold answers
// ERR_MOVED naming the holders, and the binary client (cat, get of a file and of a folder) follows
// by itself, printing nothing about it; HTTP answers 307 to a holder's HTTP URL (fetch then gets
// the bytes), or, at a member started with --proxy-reads, 200 with the bytes itself.
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli } from '../client/run-cli.js'
import type { ClusterServer } from '../helpers/index.js'
import { tempDir, TestClient } from '../helpers/index.js'
import { makeFiles, putFiles, startPlacementCluster, waitCopies } from '../helpers/placement.js'

/** One GET, redirects not followed: the status, the Location header and the bytes. */
async function getManual(
  url: string,
): Promise<{ status: number; location: string | null; body: Buffer }> {
  const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(20_000) })
  return {
    status: response.status,
    location: response.headers.get('location'),
    body: Buffer.from(await response.arrayBuffer()),
  }
}

describe('placement: reads from a member that does not hold the file', () => {
  it('binary client follows ERR_MOVED (cat, get, get of a folder); HTTP 307 to a holder, 200 with --proxy-reads', async () => {
    // C proxies its HTTP reads; A and B redirect.
    const servers = await startPlacementCluster({
      members: 3,
      http: true,
      argsOf: (name) => (name === 'C' ? ['--proxy-reads'] : []),
    })
    const [a, b, c] = servers as [ClusterServer, ClusterServer, ClusterServer]
    const files = makeFiles(20, 64 * 1024)
    const expected = await putFiles(a, files)
    const copies = await waitCopies(servers, expected, { min: 2, max: 2 })
    const notHeldAt = (server: ClusterServer) => {
      const name = [...copies.holders].find(([, list]) => !list.includes(server.name))?.[0]
      if (name === undefined) throw new Error(`${server.name} holds every file`)
      return name
    }
    const atB = notHeldAt(b) // held by A and C
    const atC = notHeldAt(c) // held by A and B

    // The protocol's answer: ERR_MOVED with the holders.
    const probe = await TestClient.connect(b.port, { clientId: 'placement-reads' })
    try {
      const reply = await probe.download(atB)
      expect(reply.ok, JSON.stringify(reply.error)).toBe(false)
      expect(reply.error?.code).toBe('ERR_MOVED')
      const holders = (reply.error as { holders?: { name: string; address: string }[] }).holders
      expect(holders?.map((h) => h.name).sort()).toEqual(copies.holders.get(atB))
      const addresses = new Map(servers.map((s) => [s.name, s.address]))
      for (const holder of holders ?? []) expect(holder.address).toBe(addresses.get(holder.name))
    } finally {
      await probe.close()
    }

    // The binary client follows by itself, and says nothing about it.
    const cat = await runCli(['--server', b.address, 'cat', atB])
    expect(cat.stderr).toBe('')
    expect(cat.code).toBe(0)
    expect(cat.stdout.equals(files.get(atB)!)).toBe(true)

    const dest = tempDir('tandem-placement-get-')
    const getOne = await runCli(['--server', b.address, 'get', atB, path.join(dest, 'one.bin')])
    expect([getOne.code, getOne.stderr]).toEqual([0, ''])
    expect((await readFile(path.join(dest, 'one.bin'))).equals(files.get(atB)!)).toBe(true)

    // A folder whose files are held at B, at A and C, or both: every one arrives whole.
    const getAll = await runCli(['--server', b.address, 'get', 'batch', path.join(dest, 'all')])
    expect([getAll.code, getAll.stderr]).toEqual([0, ''])
    for (const [name, content] of files) {
      const local = path.join(dest, 'all', path.posix.basename(name))
      expect((await readFile(local)).equals(content), `${name} got through B`).toBe(true)
    }

    // HTTP at B: 307 to a holder's HTTP URL, the same path; fetch follows it to the bytes.
    const holderUrls = new Map(servers.map((s) => [s.name, s.httpUrl]))
    for (const route of ['/api/v1/files/', '/download/']) {
      const urlPath = `${route}${encodeURIComponent(atB)}`
      const moved = await getManual(`${b.httpUrl}${urlPath}`)
      expect(moved.status, `${route}: ${moved.body.toString().slice(0, 200)}`).toBe(307)
      const allowed = copies.holders.get(atB)!.map((name) => `${holderUrls.get(name)}${urlPath}`)
      expect(allowed).toContain(moved.location)
      const followed = await fetch(`${b.httpUrl}${urlPath}`, {
        signal: AbortSignal.timeout(20_000),
      })
      expect(followed.status).toBe(200)
      expect(Buffer.from(await followed.arrayBuffer()).equals(files.get(atB)!)).toBe(true)
      // A file B holds is served by B itself.
      const held = [...copies.holders].find(([, list]) => list.includes('B'))![0]
      const direct = await getManual(`${b.httpUrl}${route}${encodeURIComponent(held)}`)
      expect(direct.status).toBe(200)
      expect(direct.body.equals(files.get(held)!)).toBe(true)
    }

    // HTTP at C with --proxy-reads: 200 and the bytes, no redirect.
    for (const route of ['/api/v1/files/', '/download/']) {
      const proxied = await getManual(`${c.httpUrl}${route}${encodeURIComponent(atC)}`)
      expect(proxied.status, `${route}: ${proxied.body.toString().slice(0, 200)}`).toBe(200)
      expect(proxied.location).toBeNull()
      expect(proxied.body.equals(files.get(atC)!)).toBe(true)
    }
  }, 60_000)
})
