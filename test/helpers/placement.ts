/**
 * Partial replication (`--replicas K`) seen from the outside: a cluster of real servers on
 * loopback, each every other's `--peer`, some of them started later (a member that joins); files
 * put through one member; and who holds what, read from the data directories themselves (a copy
 * is a file on a disk whose SHA-256 is the version put), polled with deadlines.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import type { FileRow } from '../../src/protocol/index.js'
import { registerCleanup } from './cleanup.js'
import {
  freePorts,
  newServer,
  runTandemJson,
  showOutputOnFailure,
  waitPeersUp,
  type ClusterServer,
} from './cluster.js'
import { treeOf } from './cluster-tree.js'
import { tempDir } from './temp-dir.js'
import { waitFor } from './wait-for.js'

/** Short grace periods, so that the tests of healing take seconds, not minutes. */
export const REREPLICATE_AFTER_MS = 2_000
export const FAST_ARGS = ['--rereplicate-after', '2s', '--peer-timeout', '1500ms']

export interface PlacementClusterOptions {
  /** Members in all (names A, B, C, D…); each has all the others as `--peer`. */
  members: number
  /** How many to start now (the first ones); the rest join later with `start()`. Default all. */
  started?: number
  /** `--replicas` (default 2); null: the flag is left out. */
  replicas?: number | null
  /** Serve HTTP too (each member on a free port). */
  http?: boolean
  /** Added to every member's command line (after the fast grace periods, so they win). */
  extraArgs?: string[]
  /** Added to one member's command line, by name. */
  argsOf?: (name: string) => string[]
  /** Wait until the started members see each other up (default true). */
  waitUp?: boolean
  /** The short grace periods of FAST_ARGS (default true); false: the servers' defaults. */
  fast?: boolean
}

/**
 * Start a cluster for placement tests: every member knows every other's address (a member not
 * started yet is a `--peer` that does not answer), started ones wait until they see each other up.
 */
export async function startPlacementCluster(
  options: PlacementClusterOptions,
): Promise<ClusterServer[]> {
  const n = options.members
  const started = options.started ?? n
  const ports = await freePorts(2 * n)
  const replicas = options.replicas === undefined ? 2 : options.replicas
  const servers = Array.from({ length: n }, (_, i) => {
    const name = String.fromCharCode(65 + i)
    return newServer({
      name,
      port: ports[i]!,
      syncPort: ports[n + i]!,
      peers: ports.slice(0, n).flatMap((port, j) => (j === i ? [] : [`127.0.0.1:${port}`])),
      extraArgs: [
        ...(replicas === null ? [] : ['--replicas', String(replicas)]),
        ...(options.fast === false ? [] : FAST_ARGS),
        ...(options.extraArgs ?? []),
        ...(options.argsOf?.(name) ?? []),
      ],
      http: options.http ?? false,
    })
  })
  showOutputOnFailure(servers)
  const first = servers.slice(0, started)
  await Promise.all(first.map((server) => server.start()))
  if (options.waitUp ?? true)
    await Promise.all(first.map((server) => waitPeersUp(server, started - 1, 20_000)))
  return servers
}

/** `count` files `folder/file-NN.bin` of `size` bytes each, the bytes differing per file. */
export function makeFiles(count: number, size: number, folder = 'batch'): Map<string, Buffer> {
  const files = new Map<string, Buffer>()
  for (let i = 0; i < count; i++) {
    const name = `${folder}/file-${String(i).padStart(2, '0')}.bin`
    // Counter-mode SHA-256: fast, different for every file, the same at every run.
    const content = Buffer.alloc(size)
    for (let block = 0, at = 0; at < size; block++, at += 32)
      createHash('sha256').update(`${name} ${block}`).digest().copy(content, at)
    files.set(name, content)
  }
  return files
}

/** name → SHA-256 (hex) of each content. */
export function shasOf(files: ReadonlyMap<string, Uint8Array>): Map<string, string> {
  return new Map(
    [...files].map(([name, content]) => [name, createHash('sha256').update(content).digest('hex')]),
  )
}

/**
 * Upload `files` through `server` with one `tandem put` of a local folder (the binary client, as
 * a user would): they land under `folder/` on the server. Resolves with name → SHA-256.
 */
export async function putFiles(
  server: ClusterServer,
  files: ReadonlyMap<string, Uint8Array>,
  folder = 'batch',
): Promise<Map<string, string>> {
  const local = path.join(tempDir('tandem-put-'), folder)
  for (const [name, content] of files) {
    if (!name.startsWith(`${folder}/`)) throw new Error(`${name} is not under ${folder}/`)
    const file = path.join(local, ...name.slice(folder.length + 1).split('/'))
    await fs.mkdir(path.dirname(file), { recursive: true })
    await fs.writeFile(file, content)
  }
  const put = await runTandemJson<{ files: { name: string }[] }>([
    '--server',
    server.address,
    '--json',
    'put',
    local,
    folder,
  ])
  const stored = put.files.map((f) => f.name).sort()
  const wanted = [...files.keys()].sort()
  if (JSON.stringify(stored) !== JSON.stringify(wanted))
    throw new Error(`put stored ${stored.join(', ')}; expected ${wanted.join(', ')}`)
  return shasOf(files)
}

/** Who holds what, by the disks: the copies of each expected file, and what is wrong on a disk. */
export interface Copies {
  /** Expected name → the servers whose disk has it with the expected SHA-256 (sorted). */
  holders: Map<string, string[]>
  /** `SERVER:NAME` of every expected name whose disk file has other bytes (a torn file). */
  torn: string[]
  /** `SERVER:NAME` of every file on a disk that is not expected at all. */
  strays: string[]
}

/**
 * Read every server's data directory (in the order given: list members that only lose copies
 * before members that gain them, so that a copy moving between two reads is counted once at
 * least) and compare it with `expected` (name → SHA-256).
 */
export async function copiesOf(
  servers: readonly ClusterServer[],
  expected: ReadonlyMap<string, string>,
): Promise<Copies> {
  const holders = new Map<string, string[]>([...expected.keys()].map((name) => [name, []]))
  const torn: string[] = []
  const strays: string[] = []
  for (const server of servers) {
    for (const [name, sha] of await treeOf(server.root)) {
      const want = expected.get(name)
      if (want === undefined) strays.push(`${server.name}:${name}`)
      else if (sha === want) holders.get(name)!.push(server.name)
      else torn.push(`${server.name}:${name}`)
    }
  }
  for (const list of holders.values()) list.sort()
  return { holders, torn, strays }
}

/** How many expected files each server holds. */
export function filesPerServer(
  copies: Copies,
  servers: readonly ClusterServer[],
): Map<string, number> {
  const counts = new Map(servers.map((s) => [s.name, 0]))
  for (const list of copies.holders.values())
    for (const name of list) counts.set(name, (counts.get(name) ?? 0) + 1)
  return counts
}

/** A short account of `copies`, for failure messages. */
export function describeCopies(copies: Copies): string {
  const byCount = new Map<number, string[]>()
  for (const [name, list] of copies.holders) {
    const names = byCount.get(list.length) ?? []
    names.push(`${name} [${list.join(',')}]`)
    byCount.set(list.length, names)
  }
  const lines = [...byCount]
    .sort(([a], [b]) => a - b)
    .map(
      ([count, names]) =>
        `${names.length} file(s) with ${count} copies: ${names.slice(0, 6).join('; ')}${names.length > 6 ? '; …' : ''}`,
    )
  if (copies.torn.length > 0) lines.push(`torn: ${copies.torn.join(', ')}`)
  if (copies.strays.length > 0) lines.push(`not expected: ${copies.strays.join(', ')}`)
  return lines.join('\n  ')
}

export interface CopiesWanted {
  /** Every expected file has at least this many copies. */
  min: number
  /** …and at most this many (default min). */
  max?: number
  /** Default 30 s. */
  timeoutMs?: number
  /** A further condition on the copies (say what is missing, or return true). */
  also?: (copies: Copies) => true | string | Promise<true | string>
  what?: string
}

/**
 * Poll the disks of `servers` until every expected file has between min and max copies, none is
 * torn and nothing unexpected is there; resolves with the copies, throws with them on the deadline.
 */
export async function waitCopies(
  servers: readonly ClusterServer[],
  expected: ReadonlyMap<string, string>,
  wanted: CopiesWanted,
): Promise<Copies> {
  const { min, max = min, timeoutMs = 30_000 } = wanted
  let last: Copies | undefined
  let missing = ''
  try {
    return await waitFor(
      async () => {
        last = await copiesOf(servers, expected)
        const counts = [...last.holders.values()].map((list) => list.length)
        if (last.torn.length > 0 || last.strays.length > 0) missing = 'a disk has other files'
        else if (!counts.every((count) => count >= min && count <= max))
          missing = `every file with ${min === max ? min : `${min}..${max}`} copies`
        else {
          const more = (await wanted.also?.(last)) ?? true
          if (more === true) return last
          missing = more
        }
        return false
      },
      { timeoutMs, intervalMs: 100, what: wanted.what ?? 'the copies' },
    )
  } catch (err) {
    const where = servers.map((s) => s.name).join(', ')
    throw new Error(
      `${String(err)}\n  on ${where}, still missing: ${missing}\n  ${last ? describeCopies(last) : '(never read)'}`,
    )
  }
}

/**
 * Sample the disks of `servers` every 50 ms in the background until `stop()`: collects every
 * moment at which a file had fewer than `min` or more than `max` copies, or a torn copy. A file
 * absent from every disk is reported too (min 1 at least). The sampler ends with the test.
 */
export function watchCopies(
  servers: readonly ClusterServer[],
  expected: ReadonlyMap<string, string>,
  bounds: { min: number; max: number },
): { stop(): Promise<{ samples: number; violations: string[] }> } {
  const violations: string[] = []
  let samples = 0
  let running = true
  const loop = (async () => {
    while (running) {
      const copies = await copiesOf(servers, expected)
      samples++
      for (const [name, list] of copies.holders)
        if (list.length < bounds.min || list.length > bounds.max)
          violations.push(`${name} on ${list.length} disk(s) [${list.join(',')}]`)
      for (const torn of copies.torn) violations.push(`torn ${torn}`)
      if (violations.length > 50) break
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  })()
  const stop = async () => {
    running = false
    await loop
    return { samples, violations: [...new Set(violations)] }
  }
  registerCleanup(async () => {
    running = false
    await loop.catch(() => undefined)
  })
  return { stop }
}

/** `ls --json` at `server` through the binary client (the CLI). */
export function lsJson(server: ClusterServer): Promise<FileRow[]> {
  return runTandemJson<FileRow[]>(['--server', server.address, '--json', 'ls'])
}

/**
 * Poll until `server`'s `ls --json` lists every expected name with `servers` = its holders on
 * the disks (the `holders` map); throws with the rows that differ.
 */
export async function waitListingShowsHolders(
  server: ClusterServer,
  holders: ReadonlyMap<string, readonly string[]>,
  timeoutMs = 15_000,
): Promise<FileRow[]> {
  let wrong: string[] = []
  try {
    return await waitFor(
      async () => {
        const rows = await lsJson(server)
        wrong = listingDiffers(rows, holders)
        return wrong.length === 0 && rows
      },
      { timeoutMs, intervalMs: 250, what: `${server.name}'s ls --json to show the holders` },
    )
  } catch (err) {
    throw new Error(`${String(err)}\n  ${wrong.slice(0, 10).join('\n  ')}`)
  }
}

/** The ls rows of `server` that are expected names (to count them). */
export function rowsNamed(
  rows: readonly FileRow[],
  expected: ReadonlyMap<string, unknown>,
): FileRow[] {
  return rows.filter((row) => expected.has(row.name))
}

/** `status`'s placement part (present only with --replicas), as the contract states it. */
export interface PlacementStatusView {
  replicas: number
  files: number
  held: number
  underReplicated: number
  surplus: number
  healing: {
    queued: number
    copied: number
    dropped: number
    bytes: number
    lastError?: string
  }
}

/** `status`'s placement part at `server`, or undefined when it has none. */
export async function placementOf(server: ClusterServer): Promise<PlacementStatusView | undefined> {
  const status = (await server.status()) as { placement?: PlacementStatusView }
  return status.placement
}

/** Where `rows` list an expected file with other holders than the disks (`holders`). */
function listingDiffers(
  rows: readonly FileRow[],
  holders: ReadonlyMap<string, readonly string[]>,
): string[] {
  const byName = new Map(rows.map((row) => [row.name, row]))
  const wrong: string[] = []
  for (const [name, list] of holders) {
    const row = byName.get(name)
    const listed = row ? [...row.servers].sort().join(',') : 'not listed'
    if (listed !== [...list].sort().join(','))
      wrong.push(`${name}: ${listed} (disks: ${list.join(',')})`)
  }
  return wrong
}

/**
 * Poll until the copies on the disks of `servers` are as `wanted` AND, at that same moment, the
 * listing of every member in `listers` (the live ones) shows those holders and its status has
 * nothing to copy or drop: a state the cluster has settled in, not one it passes through (a
 * conflict copy made by both holders, then moved).
 * Then checks each lister's `ls --json` (the CLI) once more. Resolves with the copies.
 */
export async function waitSettled(
  servers: readonly ClusterServer[],
  listers: readonly ClusterServer[],
  expected: ReadonlyMap<string, string>,
  wanted: CopiesWanted,
): Promise<Copies> {
  const copies = await waitCopies(servers, expected, {
    ...wanted,
    also: async (now) => {
      const more = (await wanted.also?.(now)) ?? true
      if (more !== true) return more
      for (const server of listers) {
        const wrong = listingDiffers(await server.list(), now.holders)
        if (wrong.length > 0)
          return `${server.name}'s listing to agree: ${wrong.slice(0, 3).join('; ')}`
        const p = await placementOf(server)
        if (p && (p.underReplicated > 0 || p.surplus > 0 || p.healing.queued > 0))
          return `${server.name}'s status to show nothing to move: ${JSON.stringify(p)}`
      }
      return true
    },
  })
  for (const server of listers) {
    const wrong = listingDiffers(await lsJson(server), copies.holders)
    if (wrong.length > 0)
      throw new Error(`${server.name}'s ls --json differs from the disks:\n  ${wrong.join('\n  ')}`)
  }
  return copies
}
