// Failover with real servers: two servers mirroring each other (--peer), a client started with
// `--server A,B`, and A killed with kill -9 in the middle of a 200 MiB transfer. The client must
// finish on B, say so in one line on stderr, and leave a whole file (SHA-256 equal to the source).
// "In the middle" is observed, never timed: the test polls the partial file's growth (the
// client's temp file for a get, the server's for a put) and kills once bytes are moving.
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { deadline, startCluster, tempDir, waitFor } from '../helpers/index.js'
import { spawnCli } from './run-cli.js'

const SIZE = 200 * 1024 * 1024
/** Bytes that must have moved before the kill: under way, far from done. */
const UNDER_WAY = 8 * 1024 * 1024
const TRANSFER_TIMEOUT_MS = 120_000

/** A file of `size` random bytes; resolves to its SHA-256 (hex). */
async function randomFile(file: string, size: number): Promise<string> {
  const hash = createHash('sha256')
  const handle = await fs.open(file, 'w')
  try {
    for (let done = 0; done < size;) {
      const chunk = randomBytes(Math.min(4 * 1024 * 1024, size - done))
      hash.update(chunk)
      await handle.write(chunk)
      done += chunk.length
    }
  } finally {
    await handle.close()
  }
  return hash.digest('hex')
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/** The size of the largest file in `dir` whose name contains `marker` (0: none yet). */
async function partialBytes(dir: string, marker: string): Promise<number> {
  const names = await fs.readdir(dir).catch(() => [] as string[])
  let largest = 0
  for (const name of names.filter((n) => n.includes(marker))) {
    const stat = await fs.stat(path.join(dir, name)).catch(() => undefined)
    largest = Math.max(largest, stat?.size ?? 0)
  }
  return largest
}

function client(servers: string, args: string[]) {
  const env = { TANDEM_CLIENT_ID: 'failover-test', XDG_CONFIG_HOME: tempDir('tandem-cli-config-') }
  return spawnCli(['--server', servers, '--json', ...args], { env })
}

describe('failover with real servers (kill -9 mid-transfer)', () => {
  it(
    'a 200 MiB get: A is killed mid-body; the client fetches the file whole from B',
    async () => {
      const [a, b] = await startCluster(2)
      const work = tempDir('tandem-failover-get-')
      const source = path.join(work, 'source.bin')
      const digest = await randomFile(source, SIZE)
      await fs.copyFile(source, a.file('big.bin'))
      // B has it whole (mirrored) before the client starts.
      await waitFor(
        async () => (await b.list()).some((r) => r.name === 'big.bin' && r.servers.includes('B')),
        { timeoutMs: 90_000, intervalMs: 100, what: 'big.bin mirrored to B' },
      )
      const outDir = path.join(work, 'out')
      await fs.mkdir(outDir)
      const target = path.join(outDir, 'big.bin')
      const run = client(`${a.address},${b.address}`, ['get', 'big.bin', target])
      await waitFor(async () => (await partialBytes(outDir, '.tandem-part-')) >= UNDER_WAY, {
        timeoutMs: 60_000,
        intervalMs: 2,
        what: 'the download under way',
      })
      await a.kill9()
      const code = await deadline(run.exited, TRANSFER_TIMEOUT_MS, 'the get to finish')
      expect(code, run.stderr()).toBe(0)
      expect(run.stderr()).toContain(`lost the server at ${a.address}`)
      expect(run.stderr()).toContain(`continuing on ${b.address}`)
      expect(run.stderr().trimEnd().split('\n')).toHaveLength(1)
      expect(await sha256Of(target)).toBe(digest)
      // No partial file left behind, and --json stdout is the result alone.
      expect(await fs.readdir(outDir)).toEqual(['big.bin'])
      const printed = JSON.parse(run.stdout()) as { files: { size: number }[] }
      expect(printed.files[0]?.size).toBe(SIZE)
    },
    TRANSFER_TIMEOUT_MS * 2,
  )

  it(
    'a 200 MiB put: A is killed mid-body; the upload restarts on B and B stores it whole',
    async () => {
      const [a, b] = await startCluster(2)
      const work = tempDir('tandem-failover-put-')
      const source = path.join(work, 'up.bin')
      const digest = await randomFile(source, SIZE)
      const run = client(`${a.address},${b.address}`, ['put', source])
      await waitFor(async () => (await partialBytes(a.root, '.tandem-tmp-')) >= UNDER_WAY, {
        timeoutMs: 60_000,
        intervalMs: 2,
        what: "the upload under way (A's temp file growing)",
      })
      await a.kill9()
      const code = await deadline(run.exited, TRANSFER_TIMEOUT_MS, 'the put to finish')
      expect(code, run.stderr()).toBe(0)
      expect(run.stderr()).toContain(`lost the server at ${a.address}`)
      expect(run.stderr()).toContain(`continuing on ${b.address}`)
      const printed = JSON.parse(run.stdout()) as { files: { name: string; sha256: string }[] }
      expect(printed.files[0]).toMatchObject({ name: 'up.bin', sha256: digest })
      expect(await sha256Of(b.file('up.bin'))).toBe(digest)
    },
    TRANSFER_TIMEOUT_MS * 2,
  )
})
