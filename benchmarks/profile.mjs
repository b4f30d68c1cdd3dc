/**
 * Where does the tandem server spend its CPU during one transfer scenario? Runs the scenario once
 * against a server started with `node --cpu-prof` (main thread and every worker thread write a
 * .cpuprofile on exit), then prints the top functions by self time per thread, with the share of
 * that thread's samples.
 *
 *   node benchmarks/profile.mjs upload|download [clients] [MiB per client] [--client] [--keep DIR]
 *   node benchmarks/profile.mjs put [files of 4 KiB] [--client] [--keep DIR]
 *   node benchmarks/profile.mjs http-upload|http-download [MiB] [--keep DIR]   (one curl transfer)
 *   node benchmarks/profile.mjs http-heartbeat|http-list [seconds] [--keep DIR] (autocannon, 50
 *     connections; http-list with 1,000 files in the root)
 *   node benchmarks/profile.mjs mirror [files] [KiB each] [--keep DIR]   (two servers, A and B,
 *     each the other's peer: `cp -r` of that many files (default 10,000 × 1 KiB) into A's
 *     directory, until B holds them all; both servers profiled, A's files and B's told apart by pid)
 *
 * --client profiles the client processes as well.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { cleanupAll, installExitHooks, tempDir } from './lib/children.mjs'
import { startCluster, stopCluster } from './lib/cluster.mjs'
import { waitTree } from './lib/mirror-wait.mjs'
import { ClientPool } from './lib/client-pool.mjs'
import { curl } from './lib/curl.mjs'
import { httpLoad } from './lib/http-load.mjs'
import { placeFile, writeRandomFile, writeSmallFiles } from './lib/data-files.mjs'
import { startTandem, tandemDirs } from './lib/servers.mjs'
import { MiB, round } from './lib/stats.mjs'

const TOP = 25

async function main() {
  installExitHooks()
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { keep: { type: 'string' }, client: { type: 'boolean', default: false } },
  })
  const op = positionals[0] ?? 'upload'
  if (!['upload', 'download', 'put', 'mirror', ...HTTP_OPS].includes(op))
    throw new Error(`first argument: upload, download, put, mirror or ${HTTP_OPS.join(', ')}`)
  const dir = tempDir('tandem-bench-prof-')
  const profiles = values.keep ?? path.join(dir, 'profiles')
  if (op === 'mirror') {
    await profileMirror(
      Number(positionals[1] ?? 10_000),
      Number(positionals[2] ?? 1),
      dir,
      profiles,
    )
    return
  }
  const { root, state } = tandemDirs('tandem-bench-ptandem-')
  if (HTTP_OPS.includes(op)) {
    await profileHttp(op, positionals[1], { dir, root, state, profiles })
    return
  }
  const server = await startTandem({
    root,
    state,
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profiles}`],
  })
  const clients = op === 'put' ? 1 : Number(positionals[1] ?? 1)
  // The clients are profiled too (their files start with CPU.*, like the server's: told apart by pid).
  const pool = new ClientPool(
    'tandem',
    clients,
    values.client ? ['--cpu-prof', `--cpu-prof-dir=${profiles}`] : [],
  )
  try {
    const jobs =
      op === 'put'
        ? putJobs(dir, Number(positionals[1] ?? 1000))
        : transferJobs(dir, root, op, clients, Number(positionals[2] ?? 1024) * MiB)
    const results = await pool.run(
      jobs.map((job) => ({ ...job, host: server.host, port: server.port })),
    )
    const wall =
      (Math.max(...results.map((r) => r.end)) - Math.min(...results.map((r) => r.start))) / 1000
    const bytes = results.reduce((sum, r) => sum + r.bytes, 0)
    const files = results.reduce((sum, r) => sum + (r.files ?? 0), 0)
    process.stdout.write(`server pid ${server.pid}, client pids ${pool.pids.join(' ')}\n`)
    process.stdout.write(
      `${op} × ${clients}: ${round(bytes / MiB / wall)} MiB/s${files ? `, ${round(files / wall)} files/s` : ''} (${round(wall)} s)\n`,
    )
  } finally {
    await pool.close()
    await server.stop()
  }
  for (const file of readdirSync(profiles).filter((f) => f.endsWith('.cpuprofile')))
    summarise(path.join(profiles, file))
  cleanupAll()
}

const HTTP_OPS = ['http-upload', 'http-download', 'http-heartbeat', 'http-list']

/**
 * One HTTP scenario against a profiled server: a curl transfer of `arg` MiB (default 1024), or
 * `arg` seconds (default 5) of autocannon at 50 connections after a 1 s warm-up.
 * @param {string} op @param {string | undefined} arg
 * @param {{ dir: string, root: string, state: string, profiles: string }} where
 */
async function profileHttp(op, arg, { dir, root, state, profiles }) {
  const headers = { 'X-Tandem-Client-Id': 'bench' }
  const size = Number(arg ?? 1024) * MiB
  const source = path.join(dir, 'source.bin')
  if (op === 'http-upload' || op === 'http-download') writeRandomFile(source, size)
  if (op === 'http-download') placeFile(source, path.join(root, 'big.bin'))
  if (op === 'http-list') writeSmallFiles(root, 1000, 1024)
  const server = await startTandem({
    root,
    state,
    http: true,
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profiles}`],
  })
  const url = `http://127.0.0.1:${server.httpPort}`
  try {
    process.stdout.write(`server pid ${server.pid}, HTTP on ${url}\n`)
    if (op === 'http-upload' || op === 'http-download') {
      const r =
        op === 'http-upload'
          ? await curl({ method: 'PUT', url: `${url}/api/v1/files/up.bin`, file: source, headers })
          : await curl({ method: 'GET', url: `${url}/api/v1/files/big.bin`, headers })
      process.stdout.write(
        `${op}: HTTP ${r.status}, ${round(size / MiB / r.sec)} MiB/s (${round(r.sec)} s) ${r.body.slice(0, 300)}\n`,
      )
    } else {
      const endpoint = op === 'http-list' ? '/list' : '/heartbeat'
      const r = await httpLoad({
        url: `${url}${endpoint}`,
        connections: 50,
        warmupSec: 1,
        durationSec: Number(arg ?? 5),
        headers,
      })
      process.stdout.write(`${op}: ${JSON.stringify(r)}\n`)
    }
  } finally {
    await server.stop()
  }
  for (const file of readdirSync(profiles).filter((f) => f.endsWith('.cpuprofile')))
    summarise(path.join(profiles, file))
  cleanupAll()
}

/** @param {string} dir @param {string} root @param {string} op @param {number} clients @param {number} size */
function transferJobs(dir, root, op, clients, size) {
  const source = path.join(dir, 'source.bin')
  writeRandomFile(source, size)
  for (let i = 0; i < clients; i++) placeFile(source, path.join(root, `dl-${i}.bin`))
  return Array.from({ length: clients }, (_, i) => ({
    op,
    size,
    file: source,
    name: op === 'upload' ? `up-${i}.bin` : `dl-${i}.bin`,
    out: path.join(dir, `out-${i}.bin`),
  }))
}

/** @param {string} dir @param {number} count */
function putJobs(dir, count) {
  const folder = path.join(dir, 'small')
  writeSmallFiles(folder, count, 4096)
  return [{ op: 'put', folder, as: 'small' }]
}

/**
 * `cp -r` of `count` files of `kib` KiB into A's directory, until B holds them all (both servers
 * under --cpu-prof).
 * @param {number} count @param {number} kib @param {string} dir @param {string} profiles
 */
async function profileMirror(count, kib, dir, profiles) {
  const files = writeSmallFiles(path.join(dir, 'many'), count, kib * 1024)
  const cluster = await startCluster({ nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profiles}`] })
  const [a, b] = /** @type {[any, any]} */ (cluster)
  try {
    writeFileSync(path.join(a.root, 'keep.txt'), 'keep')
    const ready = await waitTree(b.root, [{ name: 'keep.txt', data: Buffer.from('keep') }], {
      timeoutMs: 60_000,
    })
    if (ready.timedOut) throw new Error('A and B did not link within 60 s')
    const t0 = performance.now()
    execFileSync('cp', ['-r', path.join(dir, 'many'), path.join(a.root, 'many')])
    const copied = performance.now()
    const w = await waitTree(path.join(b.root, 'many'), files, {
      intervalMs: 20,
      timeoutMs: 300_000,
    })
    if (w.timedOut) throw new Error(`B did not hold all ${count} files within 300 s`)
    process.stdout.write(
      `A pid ${a.pid}, B pid ${b.pid}: cp -r ${count} × ${kib} KiB ${round((copied - t0) / 1000, 2)} s, B holds all ${round((w.done - copied) / 1000, 2)} s after cp ended\n`,
    )
  } finally {
    await stopCluster(cluster)
  }
  for (const file of readdirSync(profiles).filter((f) => f.endsWith('.cpuprofile')))
    summarise(path.join(profiles, file))
  cleanupAll()
}

/** Print the functions with the most self time in one profile. @param {string} file */
function summarise(file) {
  /** @type {{ nodes: {id: number, callFrame: {functionName: string, url: string, lineNumber: number}}[], samples: number[], timeDeltas: number[] }} */
  const profile = JSON.parse(readFileSync(file, 'utf8'))
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  /** @type {Map<string, number>} */
  const self = new Map()
  let total = 0
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0
    const frame = byId.get(id)?.callFrame
    const where = frame
      ? `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${frame.lineNumber + 1}`
      : '?'
    self.set(where, (self.get(where) ?? 0) + dt)
    total += dt
  })
  const idle = self.get('(idle) :0') ?? 0
  process.stdout.write(
    `\n${path.basename(file)}: ${round(total / 1e6)} s profiled, ${round(((total - idle) / total) * 100, 1)} % busy\n`,
  )
  for (const [where, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
    process.stdout.write(
      `  ${(round((us / total) * 100, 1).toFixed(1) + ' %').padStart(7)}  ${round(us / 1000)
        .toFixed(0)
        .padStart(6)} ms  ${where}\n`,
    )
  }
}

main().catch((err) => {
  process.stderr.write(
    `profile failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  )
  cleanupAll()
  process.exit(1)
})
