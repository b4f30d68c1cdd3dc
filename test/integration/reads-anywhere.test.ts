// Reads (and the operations that need a file's content) anywhere, with --replicas 2 of 3 real
// servers on loopback (--peer): asked at a member whose disk has no copy, the CLI's cat (by name
// and by ls index), get, append, mv and rm are done at a holder — ERR_MOVED followed, nothing
// said about it — and create of the name is refused as existing; HTTP answers 307 to a holder's
// URL with the same path and query, and 200 with the bytes at a member started --proxy-reads.
// Each server's listing shows every file, its servers being the holders.
import { existsSync } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli } from '../client/run-cli.js'
import { sha256, tempDir, waitFor, type ClusterServer } from '../helpers/index.js'
import { startPlacementCluster } from '../helpers/placement.js'

const FILES = 12
const CONVERGED_MS = 30_000

/** A, B, C, each the others' --peer, --replicas 2; `proxy` names the one that proxies reads. */
/** Three members on loopback, each the others' --peer, --replicas 2, HTTP on. */
function startReplicated(proxy: string): Promise<ClusterServer[]> {
  return startPlacementCluster({
    members: 3,
    http: true,
    fast: false,
    argsOf: (name) => (name === proxy ? ['--proxy-reads'] : []),
  })
}

/** Which servers' disks hold `name` with exactly `content`. */
async function holdersOf(
  servers: readonly ClusterServer[],
  name: string,
  content: Buffer,
): Promise<string[]> {
  const want = sha256(content)
  const holding: string[] = []
  for (const server of servers) {
    const bytes = await fs.readFile(path.join(server.root, name)).catch(() => undefined)
    if (bytes && sha256(bytes) === want) holding.push(server.name)
  }
  return holding
}

/** Until every file is on exactly two disks and every listing shows it with those two. */
async function waitPlaced(
  servers: readonly ClusterServer[],
  files: Map<string, Buffer>,
): Promise<Map<string, string[]>> {
  return waitFor(
    async () => {
      const placed = new Map<string, string[]>()
      for (const [name, content] of files) {
        const holding = await holdersOf(servers, name, content)
        if (holding.length !== 2) return false
        placed.set(name, holding)
      }
      for (const server of servers) {
        const rows = new Map((await server.list()).map((r) => [r.name, r.servers]))
        for (const [name, holding] of placed)
          if (JSON.stringify(rows.get(name)) !== JSON.stringify(holding)) return false
      }
      return placed
    },
    { timeoutMs: CONVERGED_MS, intervalMs: 200, what: 'each file on 2 disks, listed so' },
  )
}

describe('reads anywhere (--replicas 2 of 3)', () => {
  it('the CLI at a member without a copy: cat, cat INDEX, get, append, mv, rm done at a holder; create refused', async () => {
    const servers = await startReplicated('C')
    const [a, b] = servers as [ClusterServer, ClusterServer, ClusterServer]
    const local = tempDir('tandem-reads-')
    const files = new Map<string, Buffer>()
    await fs.mkdir(path.join(local, 'batch'))
    for (let i = 0; i < FILES; i++) {
      const name = `batch/f-${String(i).padStart(2, '0')}.bin`
      const content = Buffer.from(`file ${i} `.repeat(1000 + i))
      files.set(name, content)
      await fs.writeFile(path.join(local, name), content)
    }
    const put = await runCli(['--server', a.address, 'put', path.join(local, 'batch')])
    expect([put.code, put.stderr]).toEqual([0, ''])
    const placed = await waitPlaced(servers, files)
    const notAtB = [...placed].filter(([, holding]) => !holding.includes('B')).map(([n]) => n)
    expect(notAtB.length, 'B holds every file').toBeGreaterThan(1)
    const [far, other] = notAtB as [string, string]
    const content = files.get(far)!
    const atB = (...args: string[]) => runCli(['--server', b.address, ...args])

    // cat by name and by its index in B's listing: the bytes, and not a word on stderr.
    const cat = await atB('cat', far)
    expect([cat.code, cat.stderr]).toEqual([0, ''])
    expect(cat.stdout.equals(content)).toBe(true)
    const index = (await b.list()).findIndex((r) => r.name === far)
    const byIndex = await atB('cat', String(index))
    expect([byIndex.code, byIndex.stderr]).toEqual([0, ''])
    expect(byIndex.stdout.equals(content)).toBe(true)

    // get of the file, and of the whole folder: every file whole, none skipped.
    const dest = tempDir('tandem-reads-get-')
    const one = await atB('get', far, path.join(dest, 'one.bin'))
    expect([one.code, one.stderr]).toEqual([0, ''])
    expect(sha256(await fs.readFile(path.join(dest, 'one.bin')))).toBe(sha256(content))
    const all = await atB('--json', 'get', 'batch', path.join(dest, 'all'))
    expect([all.code, all.stderr]).toEqual([0, ''])
    expect(JSON.parse(all.stdout.toString())).toMatchObject({ skipped: [] })
    for (const [name, bytes] of files)
      expect(sha256(await fs.readFile(path.join(dest, 'all', path.basename(name))))).toBe(
        sha256(bytes),
      )

    // create of the name: it exists (at other members); nothing is made on B's disk.
    const create = await atB('create', far, '--text', 'clobber')
    expect(create.code).not.toBe(0)
    expect(create.stderr).toContain('ERR_EXISTS')
    expect(existsSync(path.join(b.root, far))).toBe(false)

    // append: done at a holder, and the new version reaches both holders.
    const append = await atB('append', far, '--text', '+tail')
    expect([append.code, append.stderr]).toEqual([0, ''])
    const appended = Buffer.concat([content, Buffer.from('+tail')])
    await waitFor(async () => (await holdersOf(servers, far, appended)).length === 2, {
      timeoutMs: CONVERGED_MS,
      what: 'the appended version on two disks',
    })

    // mv and rm of a file B does not hold: done at a holder, seen everywhere.
    const renamed = `${far}.moved`
    const mv = await atB('mv', far, renamed)
    expect([mv.code, mv.stderr]).toEqual([0, ''])
    const rm = await atB('rm', other)
    expect([rm.code, rm.stderr]).toEqual([0, ''])
    await waitFor(
      async () => {
        for (const server of servers) {
          const names = new Set((await server.list()).map((r) => r.name))
          if (names.has(far) || names.has(other) || !names.has(renamed)) return false
          if (existsSync(path.join(server.root, far))) return false
          if (existsSync(path.join(server.root, other))) return false
        }
        return (await holdersOf(servers, renamed, appended)).length === 2
      },
      { timeoutMs: CONVERGED_MS, what: 'the rename and the delete everywhere' },
    )
  }, 120_000)

  it('HTTP: 307 to a holder (same path and query), 200 with the bytes at a --proxy-reads member', async () => {
    const servers = await startReplicated('C')
    const [a, b, c] = servers as [ClusterServer, ClusterServer, ClusterServer]
    const files = new Map<string, Buffer>()
    for (let i = 0; i < FILES; i++) {
      const name = `h/f-${String(i).padStart(2, '0')}.bin`
      const content = Buffer.from(`http ${i} `.repeat(2000 + i))
      files.set(name, content)
      const res = await fetch(`${a.httpUrl}/api/v1/files/${encodeURIComponent(name)}`, {
        method: 'PUT',
        body: content,
      })
      expect(res.status, await res.text()).toBeLessThan(300)
    }
    const placed = await waitPlaced(servers, files)
    const farFrom = (server: ClusterServer) =>
      [...placed].find(([, holding]) => !holding.includes(server.name))![0]
    const urls = new Map(servers.map((s) => [s.name, s.httpUrl]))

    const atB = farFrom(b)
    const query = '?ClientId=reader&purpose=read'
    for (const route of ['/download/', '/api/v1/files/']) {
      const urlPath = `${route}${encodeURIComponent(atB)}${query}`
      const moved = await fetch(`${b.httpUrl}${urlPath}`, { redirect: 'manual' })
      expect(moved.status).toBe(307)
      const allowed = placed.get(atB)!.map((n) => `${urls.get(n)}${urlPath}`)
      expect(allowed).toContain(moved.headers.get('location'))
      await moved.body?.cancel()
      const followed = await fetch(`${b.httpUrl}${urlPath}`)
      expect(followed.status).toBe(200)
      expect(sha256(Buffer.from(await followed.arrayBuffer()))).toBe(sha256(files.get(atB)!))
    }

    const atC = farFrom(c)
    const proxied = await fetch(`${c.httpUrl}/download/${encodeURIComponent(atC)}`, {
      redirect: 'manual',
      headers: { range: 'bytes=5-14' },
    })
    expect(proxied.status).toBe(206)
    expect(Buffer.from(await proxied.arrayBuffer())).toEqual(files.get(atC)!.subarray(5, 15))
    const whole = await fetch(`${c.httpUrl}/download/${encodeURIComponent(atC)}`, {
      redirect: 'manual',
    })
    expect(whole.status).toBe(200)
    expect(sha256(Buffer.from(await whole.arrayBuffer()))).toBe(sha256(files.get(atC)!))
  }, 120_000)
})
