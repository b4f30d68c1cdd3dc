/**
 * Comparing the data directories of a cluster: file trees as name → SHA-256 (temp files left
 * out), and polls until servers hold the same tree, an expected tree, or one file's content.
 */
import { createHash, randomFillSync } from 'node:crypto'
import { createReadStream, lstatSync } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { TEMP_PREFIX } from '../../src/protocol/index.js'
import type { ClusterServer } from './cluster.js'
import { walkTree } from './disk.js'
import { waitFor } from './wait-for.js'
/** Hashes of files already read, keyed by path and invalidated by any change to the inode. */
const hashCache = new Map<string, { signature: string; sha256: string }>()

/** SHA-256 (hex) of a file, or undefined if it is not there (or vanished while read). */
export async function fileSha256(file: string): Promise<string | undefined> {
  let signature: string
  try {
    const st = lstatSync(file)
    if (!st.isFile()) return undefined
    signature = `${st.ino} ${st.size} ${st.mtimeMs} ${st.ctimeMs}`
  } catch {
    return undefined
  }
  const cached = hashCache.get(file)
  if (cached?.signature === signature) return cached.sha256
  const hash = createHash('sha256')
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 4 << 20 }))
      hash.update(chunk as Buffer)
  } catch {
    return undefined
  }
  const sha256 = hash.digest('hex')
  hashCache.set(file, { signature, sha256 })
  return sha256
}

/** Every regular file under `root` → SHA-256 (hex), temp files left out. */
export async function treeOf(root: string): Promise<Map<string, string>> {
  const tree = new Map<string, string>()
  for (const relative of walkTree(root)) {
    if (path.posix.basename(relative).startsWith(TEMP_PREFIX)) continue
    const sha = await fileSha256(path.join(root, relative))
    if (sha !== undefined) tree.set(relative, sha)
  }
  return tree
}

/** Lines that say how the trees of `servers` differ (empty when they are identical). */
export function treeDiff(trees: readonly { name: string; tree: Map<string, string> }[]): string[] {
  const names = new Set(trees.flatMap(({ tree }) => [...tree.keys()]))
  const lines: string[] = []
  for (const file of [...names].sort()) {
    const shas = trees.map(({ tree }) => tree.get(file))
    if (shas.every((sha) => sha === shas[0])) continue
    const each = trees.map(({ name }, i) => `${name}: ${shas[i]?.slice(0, 12) ?? 'absent'}`)
    lines.push(`${file} — ${each.join(', ')}`)
  }
  return lines
}

/**
 * Poll until every server's tree (names and content) is identical; resolves with that tree. On
 * the deadline, throws with the differences.
 */
export async function waitConverged(
  servers: readonly ClusterServer[],
  options: { timeoutMs?: number } = {},
): Promise<Map<string, string>> {
  const timeoutMs = options.timeoutMs ?? 10_000
  let diff: string[] = []
  const trees = async () =>
    Promise.all(servers.map(async ({ name, root }) => ({ name, tree: await treeOf(root) })))
  try {
    return await waitFor(
      async () => {
        const current = await trees()
        diff = treeDiff(current)
        return diff.length === 0 && current[0]!.tree
      },
      { timeoutMs, intervalMs: 50, what: 'the servers to converge' },
    )
  } catch {
    const names = servers.map((s) => s.name).join(', ')
    throw new Error(
      `servers ${names} did not converge in ${timeoutMs} ms; differences:\n  ${diff.join('\n  ')}`,
    )
  }
}

/** The SHA-256 (hex) of a buffer or string, to compare with treeOf's values. */
export function sha256Of(content: string | Uint8Array): string {
  return createHash('sha256').update(content).digest('hex')
}

/**
 * Poll until `name` has `content` on every one of `servers` (or is absent from all, for null);
 * the default deadline is the 5 s.
 */
export async function waitFile(
  servers: readonly ClusterServer[],
  name: string,
  content: string | Uint8Array | null,
  timeoutMs = 5_000,
): Promise<void> {
  const want = content === null ? undefined : sha256Of(content)
  const where = servers.map((s) => s.name).join(', ')
  await waitFor(
    async () => {
      const shas = await Promise.all(servers.map((server) => fileSha256(server.file(name))))
      return shas.every((sha) => sha === want)
    },
    {
      timeoutMs,
      intervalMs: 20,
      what: content === null ? `${name} gone from ${where}` : `${name} on ${where}`,
    },
  )
}

/**
 * Poll until every server's tree is exactly `expected` (name → SHA-256 hex); on the deadline,
 * throws with the differences from it.
 */
export async function waitTree(
  servers: readonly ClusterServer[],
  expected: ReadonlyMap<string, string>,
  timeoutMs = 10_000,
): Promise<void> {
  let diff: string[] = []
  try {
    await waitFor(
      async () => {
        const trees = await Promise.all(
          servers.map(async ({ name, root }) => ({ name, tree: await treeOf(root) })),
        )
        diff = treeDiff([{ name: 'expected', tree: new Map(expected) }, ...trees])
        return diff.length === 0
      },
      { timeoutMs, intervalMs: 50 },
    )
  } catch {
    const names = servers.map((s) => s.name).join(', ')
    throw new Error(
      `servers ${names} did not reach the expected tree in ${timeoutMs} ms:\n  ${diff.join('\n  ')}`,
    )
  }
}

/** Write `size` random bytes to `file`, 4 MiB at a time; resolves with their SHA-256 (hex). */
export async function writeRandomFile(file: string, size: number): Promise<string> {
  const hash = createHash('sha256')
  const chunk = Buffer.allocUnsafe(4 << 20)
  const handle = await fs.open(file, 'w')
  try {
    for (let done = 0; done < size; done += chunk.length) {
      const piece = chunk.subarray(0, Math.min(chunk.length, size - done))
      randomFillSync(piece)
      await handle.write(piece, 0, piece.length)
      hash.update(piece)
    }
  } finally {
    await handle.close()
  }
  return hash.digest('hex')
}
