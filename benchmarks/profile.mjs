/**
 * Where does the tandem server spend its CPU during one transfer scenario? Runs the scenario once
 * against a server started with `node --cpu-prof` (main thread and every worker thread write a
 * .cpuprofile on exit), then prints the top functions by self time per thread, with the share of
 * that thread's samples.
 *
 *   node benchmarks/profile.mjs upload|download [clients] [MiB per client] [--client] [--keep DIR]
 *   node benchmarks/profile.mjs put [files of 4 KiB] [--client] [--keep DIR]
 *
 * --client profiles the client processes as well.
 */
import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { cleanupAll, installExitHooks, tempDir } from './lib/children.mjs'
import { ClientPool } from './lib/client-pool.mjs'
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
  if (!['upload', 'download', 'put'].includes(op))
    throw new Error('first argument: upload, download or put')
  const dir = tempDir('tandem-bench-prof-')
  const profiles = values.keep ?? path.join(dir, 'profiles')
  const { root, state } = tandemDirs('tandem-bench-ptandem-')
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
