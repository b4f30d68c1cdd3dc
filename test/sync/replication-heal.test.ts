// Healing (--replicas 2, --rereplicate-after 2s), three real servers on loopback: files made at
// A end up on exactly 2 disks; then A is killed (-9) for good, and within the grace period plus
// 30 s every file is on 2 live disks again — B and C, each copy checked by SHA-256 — with no
// temp file left, and the survivors' `status` says nothing is under-replicated and what healing
// copied. It fails if a member never heals (copies stay on one disk), if a copy is torn or wrong,
// or if the files were mirrored everywhere instead of placed (3 copies before the kill).
import { describe, expect, it } from 'vitest'
import {
  fileSha256,
  sha256Of,
  startCluster,
  tempFilesIn,
  waitFor,
  type ClusterServer,
} from '../helpers/index.js'

const FILES = 24
const GRACE_MS = 2_000

/** The servers whose disk holds `name` with exactly `sha` (SHA-256 of the bytes on disk). */
async function holders(servers: readonly ClusterServer[], name: string, sha: string) {
  const found: string[] = []
  for (const server of servers)
    if ((await fileSha256(server.file(name))) === sha) found.push(server.name)
  return found
}

/** Every file's holders, once each file is on exactly `count` of `servers` (else false). */
async function everyFileOn(
  servers: readonly ClusterServer[],
  files: ReadonlyMap<string, string>,
  count: number,
): Promise<Map<string, string[]> | false> {
  const where = new Map<string, string[]>()
  for (const [name, sha] of files) {
    const on = await holders(servers, name, sha)
    if (on.length !== count) return false
    where.set(name, on)
  }
  return where
}

describe('healing', () => {
  it('kill -9 a member for good: within --rereplicate-after + 30 s every file has 2 live copies', async () => {
    const servers = await startCluster(3, {
      extraArgs: ['--replicas', '2', '--rereplicate-after', `${GRACE_MS / 1000}s`],
    })
    const [a, b, c] = servers
    const files = new Map<string, string>()
    for (let i = 0; i < FILES; i++) {
      const name = `docs/file-${String(i).padStart(2, '0')}.txt`
      const content = `file ${i} made on A\n`.repeat(200 + i * 37)
      await a.write(name, content)
      files.set(name, sha256Of(content))
    }

    // Placed: the creator A holds every file, and each second copy is on B or C, not both.
    const placed = await waitFor(() => everyFileOn(servers, files, 2), {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: `each of the ${FILES} files on exactly 2 disks`,
    })
    for (const on of placed.values()) expect(on).toContain('A')

    await a.kill9()
    const killedAt = Date.now()
    const healed = await waitFor(() => everyFileOn([b, c], files, 2), {
      timeoutMs: GRACE_MS + 30_000,
      intervalMs: 250,
      what: 'every file on both B and C after A was lost',
    })
    expect(healed.size).toBe(FILES)
    expect(Date.now() - killedAt).toBeLessThan(GRACE_MS + 30_000)
    for (const server of [b, c]) expect(tempFilesIn(server.root)).toEqual([])

    // The survivors see every file held twice among the live members, and say what they copied.
    await waitFor(
      async () => {
        const [sb, sc] = await Promise.all([b.status(), c.status()])
        return (
          sb.placement?.underReplicated === 0 &&
          sc.placement?.underReplicated === 0 &&
          sb.placement.files === FILES &&
          sb.placement.held === FILES &&
          sc.placement.held === FILES
        )
      },
      { timeoutMs: 15_000, intervalMs: 250, what: 'B and C to report nothing under-replicated' },
    )
    const copied = [(await b.status()).placement!, (await c.status()).placement!]
    // Each file A held with B or C was copied to the other: FILES copies at least.
    expect(copied[0]!.healing.copied + copied[1]!.healing.copied).toBeGreaterThanOrEqual(FILES)
    expect(copied[0]!.replicas).toBe(2)
  }, 120_000)
})
