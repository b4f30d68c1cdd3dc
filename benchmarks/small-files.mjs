/**
 * Question 2: how many small files per second does one `put` of a folder store on a tandem
 * server, next to writing the same files locally one by one with fs.writeFile (awaited in turn)
 * in the same run?
 *
 * Tandem is measured twice: the CLI as a user runs it (`tandem put FOLDER NAME`, timed from spawn
 * to exit, so it includes Node's start-up and the connection), and the library's planPut +
 * putFiles in a client process that is already connected. The baseline is also given with an
 * fsync per file, tandem's durability (tandem additionally fsyncs the directory per file).
 */
import { performance } from 'node:perf_hooks'
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, rmSync } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { once } from 'node:events'
import { spawnTracked, tempDir } from './lib/children.mjs'
import { ClientPool } from './lib/client-pool.mjs'
import { writeSmallFiles } from './lib/data-files.mjs'
import { cpuDelta, cpuTimes } from './lib/proc-stats.mjs'
import { startTandem, TANDEM_BIN, tandemDirs } from './lib/servers.mjs'
import { round } from './lib/stats.mjs'

/** @typedef {'tandem put (CLI)' | 'tandem putFiles (library)' | 'writeFile' | 'writeFile+fsync'} Variant */
/** @typedef {{ name: string, data: Buffer }[]} Files */

/**
 * @param {{ runs: number, count: number, size: number, serverNodeArgs: string[] }} config
 * @param {(line: string) => void} log
 */
export async function measureSmallFiles(config, log) {
  const folder = path.join(tempDir('tandem-bench-small-'), 'small')
  const files = writeSmallFiles(folder, config.count, config.size)
  const { root, state } = tandemDirs('tandem-bench-standem-')
  const baseDir = tempDir('tandem-bench-slocal-')
  const server = await startTandem({ root, state, nodeArgs: config.serverNodeArgs })
  const pool = new ClientPool('tandem', 1)
  const hasCli = existsSync(TANDEM_BIN)
  if (!hasCli) log(`  (no ${TANDEM_BIN} yet: the CLI variant is skipped)`)
  /** @type {Variant[]} */
  const variants = [
    'writeFile',
    ...(hasCli ? /** @type {Variant[]} */ (['tandem put (CLI)']) : []),
    'tandem putFiles (library)',
    'writeFile+fsync',
  ]
  const env = { folder, files, root, baseDir, server, pool }
  try {
    // One unrecorded round first: the first file writes of a process (and the server's first
    // session) pay for JIT warm-up and lazy thread start, which is not what this question asks.
    for (const variant of variants) await sample(env, variant, -1)
    const samples = []
    for (let run = 0; run < config.runs; run++) {
      for (let k = 0; k < variants.length; k++) {
        const variant = /** @type {Variant} */ (variants[(k + run) % variants.length])
        execFileSync('sync')
        const s = {
          variant,
          run: run + 1,
          files: config.count,
          fileSize: config.size,
          ...(await sample(env, variant, run)),
        }
        log(
          `  run ${run + 1}/${config.runs}  small files ${variant.padEnd(27)} ${s.filesPerSec.toFixed(0).padStart(7)} files/s  ${s.wallSec.toFixed(2)} s`,
        )
        samples.push(s)
      }
    }
    return { samples, server: server.command.join(' '), cli: hasCli ? TANDEM_BIN : null }
  } finally {
    await Promise.all([pool.close(), server.stop()])
  }
}

/** @param {{ folder: string, files: Files, root: string, baseDir: string, server: import('./lib/servers.mjs').RunningServer, pool: ClientPool }} env @param {Variant} variant @param {number} run */
async function sample(env, variant, run) {
  if (variant === 'writeFile' || variant === 'writeFile+fsync') {
    const dir = path.join(env.baseDir, `run-${run + 1}`)
    await fs.mkdir(dir)
    try {
      const sec = await writeLocally(env.files, dir, variant === 'writeFile+fsync')
      return { wallSec: round(sec, 4), filesPerSec: round(env.files.length / sec, 1) }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  const as = `small-${variant.includes('CLI') ? 'cli' : 'lib'}-${run + 1}`
  const cpuBefore = cpuTimes(env.server.pid)
  try {
    const sec =
      variant === 'tandem put (CLI)' ? await putWithCli(env, as) : await putWithLibrary(env, as)
    const stored = readdirSync(path.join(env.root, as)).filter(
      (name) => !name.startsWith('.'),
    ).length
    if (stored !== env.files.length)
      throw new Error(`${variant}: ${stored} of ${env.files.length} files stored`)
    const cpu = cpuDelta(cpuBefore, cpuTimes(env.server.pid))
    return {
      wallSec: round(sec, 4),
      filesPerSec: round(env.files.length / sec, 1),
      server: { cpu, cpuMsPerFile: round((cpu.totalSec * 1000) / env.files.length, 3) },
    }
  } finally {
    rmSync(path.join(env.root, as), { recursive: true, force: true })
  }
}

/** Sequential fs.writeFile of every file (optionally with an fsync each); returns seconds. */
async function writeLocally(
  /** @type {Files} */ files,
  /** @type {string} */ dir,
  /** @type {boolean} */ fsync,
) {
  const t0 = performance.now()
  for (const { name, data } of files) {
    if (!fsync) {
      await fs.writeFile(path.join(dir, name), data)
      continue
    }
    const handle = await fs.open(path.join(dir, name), 'w')
    try {
      await handle.writeFile(data)
      await handle.sync()
    } finally {
      await handle.close()
    }
  }
  return (performance.now() - t0) / 1000
}

/** `tandem --server H:P --client-id bench put FOLDER AS`, spawn to exit; returns seconds. */
async function putWithCli(
  /** @type {{ folder: string, baseDir: string, server: import('./lib/servers.mjs').RunningServer }} */ env,
  /** @type {string} */ as,
) {
  const args = [
    TANDEM_BIN,
    '--server',
    `${env.server.host}:${env.server.port}`,
    '--client-id',
    'bench',
    'put',
    env.folder,
    as,
  ]
  const t0 = performance.now()
  // AS is a new name each run, no folder on the server yet: put stores FOLDER as AS, not inside it.
  const proc = spawnTracked(process.execPath, args, { cwd: env.baseDir })
  const [code] = await once(proc.child, 'exit')
  const sec = (performance.now() - t0) / 1000
  if (code !== 0) throw new Error(`tandem put exited ${code}:\n${proc.output.text}`)
  return sec
}

/** planPut + putFiles in an already connected client process; returns seconds. */
async function putWithLibrary(
  /** @type {{ folder: string, server: import('./lib/servers.mjs').RunningServer, pool: ClientPool }} */ env,
  /** @type {string} */ as,
) {
  const [result] = await env.pool.run([
    { op: 'put', host: env.server.host, port: env.server.port, folder: env.folder, as },
  ])
  if (!result) throw new Error('no result from the client')
  return (result.end - result.start) / 1000
}
