/**
 * Question (issue 14): how fast are `tandem put` and `tandem get` through the command line, as a
 * user runs them against a real `tandem serve` (sync worker included), next to rsync against an
 * rsync daemon on the same loopback, in the same run? One big file (1 GiB) and one folder of
 * 1,000 × 4 KiB, each way; `rsync -a` (the target's reference) and `rsync -a --fsync` (the
 * like-for-like row: tandem fsyncs every file it stores, on the server and on a get). Every
 * command is timed from spawn to exit, and its result checked (size; content once for the big
 * file, every time for the folder), so that a failed run cannot pass as a fast one. CPU of each
 * side: see README.md, "The command line next to rsync".
 */
import { execFileSync } from 'node:child_process'
import { once } from 'node:events'
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
} from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { spawnTracked, tempDir } from './lib/children.mjs'
import { placeFile, writeRandomFile, writeSmallFiles } from './lib/data-files.mjs'
import { waitIdle } from './lib/mirror-copy.mjs'
import { cpuTimes, machineBusy, machineCpu, reapedChildrenCpuSec } from './lib/proc-stats.mjs'
import { equalFreeMemory } from './lib/machine.mjs'
import { ensureRsync, startRsyncDaemon } from './lib/rsync-daemon.mjs'
import { hashFd } from './lib/mirror-wait.mjs'
import { startTandem, TANDEM_BIN, tandemDirs } from './lib/servers.mjs'
import { MiB, round } from './lib/stats.mjs'

/**
 * @typedef {{ runs: number, bigSize: number, smallCount: number, smallSize: number,
 *   serverNodeArgs: string[] }} CliConfig
 * @typedef {'file' | 'folder'} Case
 * @typedef {'put' | 'get'} Op
 * @typedef {'tandem' | 'rsync -a' | 'rsync -a --fsync'} Variant
 */

const VARIANTS = /** @type {Variant[]} */ (['tandem', 'rsync -a', 'rsync -a --fsync'])
const GROUPS = /** @type {[Case, Op][]} */ ([
  ['file', 'put'],
  ['file', 'get'],
  ['folder', 'put'],
  ['folder', 'get'],
])

/** @param {CliConfig} config @param {(line: string) => void} log */
export async function measureCli(config, log) {
  const rsync = ensureRsync(log)
  if (!rsync.ok) log(`  rsync rows skipped: ${rsync.why}`)
  const src = prepareData(config)
  const { root, state } = tandemDirs('tandem-bench-cli-')
  const local = tempDir('tandem-bench-cli-local-')
  const server = await startTandem({ root, state, nodeArgs: config.serverNodeArgs, http: true })
  const daemon = rsync.ok ? await startRsyncDaemon() : null
  /** @type {Env} */
  const env = { config, src, root, local, server, daemon, checkedContent: new Set() }
  try {
    await setUp(env)
    const variants = daemon ? VARIANTS : VARIANTS.slice(0, 1)
    const samples = []
    for (let run = 0; run < config.runs; run++) {
      for (const [kind, op] of GROUPS) {
        for (let k = 0; k < variants.length; k++) {
          // The order rotates from run to run, so that drift does not always favour one side.
          const variant = /** @type {Variant} */ (variants[(k + run) % variants.length])
          const s = {
            case: kind,
            op,
            variant,
            run: run + 1,
            ...(await sample(env, kind, op, variant, run)),
          }
          samples.push(s)
          log(
            `  run ${run + 1}/${config.runs}  ${describe(config, kind, op).padEnd(18)} ${variant.padEnd(16)} ${rate(s)}  ${s.wallSec.toFixed(2)} s  CPU server ${s.serverCpuSec.toFixed(2)} s, client ${s.clientCpuSec.toFixed(2)} s`,
          )
        }
      }
    }
    return {
      config,
      rsync: rsync.ok ? { version: rsyncVersion() } : { skipped: rsync.why },
      server: server.command.join(' '),
      cli: TANDEM_BIN,
      samples,
    }
  } catch (err) {
    log(
      `  failed; the server said:\n${server.output().slice(-3000)}${daemon ? `\nthe rsync daemon's log:\n${daemon.log().slice(-2000)}` : ''}`,
    )
    throw err
  } finally {
    await Promise.all([server.stop(), daemon?.stop()])
    rmSync(path.dirname(root), { recursive: true, force: true })
    rmSync(local, { recursive: true, force: true })
    rmSync(src.base, { recursive: true, force: true })
  }
}

/**
 * @typedef {{ config: CliConfig, src: ReturnType<typeof prepareData>, root: string, local: string,
 *   server: import('./lib/servers.mjs').RunningServer,
 *   daemon: import('./lib/rsync-daemon.mjs').RsyncDaemon | null, checkedContent: Set<string> }} Env
 */

/** The big file (with its SHA-256) and the folder, written once (random bytes). @param {CliConfig} config */
function prepareData(config) {
  const base = tempDir('tandem-bench-cli-src-')
  const file = path.join(base, 'big.bin')
  const sha256 = /** @type {string} */ (writeRandomFile(file, config.bigSize, { sha256: true }))
  const folder = path.join(base, 'small')
  const files = writeSmallFiles(folder, config.smallCount, config.smallSize)
  return { base, file, sha256, folder, files }
}

/**
 * What the gets read, put there once before the clock: at tandem by an unrecorded `put` of each
 * (which also warms up the server: its first session and worker threads), at the daemon as hard
 * links of the sources (the same bytes, in the page cache like the server's copies), with one
 * unrecorded rsync upload of each as its warm-up.
 * @param {Env} env
 */
async function setUp(env) {
  const { src, daemon } = env
  await timeCommand(tandemArgs(env, ['put', src.file, 'src.bin']))
  await timeCommand(tandemArgs(env, ['put', src.folder, 'src-small']))
  checkFile(path.join(env.root, 'src.bin'), env.config.bigSize)
  checkFolder(path.join(env.root, 'src-small'), src.files)
  if (!daemon) return
  mkdirSync(path.join(daemon.moduleDir, 'src', 'small'), { recursive: true })
  mkdirSync(path.join(daemon.moduleDir, 'up'))
  placeFile(src.file, path.join(daemon.moduleDir, 'src', 'big.bin'))
  for (const { name } of src.files)
    placeFile(path.join(src.folder, name), path.join(daemon.moduleDir, 'src', 'small', name))
  await timeCommand(['rsync', '-a', src.file, daemon.url('up/big.bin')])
  await timeCommand(['rsync', '-a', `${src.folder}/`, daemon.url('up/small/')])
  rmSync(path.join(daemon.moduleDir, 'up'), { recursive: true })
  mkdirSync(path.join(daemon.moduleDir, 'up'))
}

/** @param {Env} env @param {string[]} args */
function tandemArgs(env, args) {
  return [
    process.execPath,
    TANDEM_BIN,
    '--server',
    `${env.server.host}:${env.server.port}`,
    '--client-id',
    'bench-cli',
    ...args,
  ]
}

/**
 * The command of one sample, the path it writes (removed before it, checked after it), and what
 * to remove at the server afterwards.
 * @param {Env} env @param {Case} kind @param {Op} op @param {Variant} variant @param {number} run
 */
function plan(env, kind, op, variant, run) {
  const { src } = env
  const daemon = /** @type {NonNullable<Env['daemon']>} */ (env.daemon)
  const file = kind === 'file'
  if (op === 'put') {
    const from = file ? src.file : src.folder
    if (variant === 'tandem') {
      // A new name each run, nothing of that name on the server: put stores SRC as NAME.
      const name = file ? `up-r${run + 1}.bin` : `up-small-r${run + 1}`
      const command = tandemArgs(env, ['put', from, name])
      return { command, target: path.join(env.root, name), removeAfter: name }
    }
    const to = file ? 'up/big.bin' : 'up/small'
    const command = rsyncArgs(variant, file ? from : `${from}/`, daemon.url(file ? to : `${to}/`))
    return { command, target: path.join(daemon.moduleDir, to), removeAfter: null }
  }
  const target = path.join(env.local, file ? 'get.bin' : 'small')
  const command =
    variant === 'tandem'
      ? tandemArgs(env, ['get', file ? 'src.bin' : 'src-small', target])
      : rsyncArgs(
          variant,
          daemon.url(file ? 'src/big.bin' : 'src/small/'),
          file ? target : `${target}/`,
        )
  return { command, target, removeAfter: null }
}

/** @param {Variant} variant @param {string} from @param {string} to */
function rsyncArgs(variant, from, to) {
  return ['rsync', '-a', ...(variant === 'rsync -a --fsync' ? ['--fsync'] : []), from, to]
}

/** @param {Env} env @param {Case} kind @param {Op} op @param {Variant} variant @param {number} run */
async function sample(env, kind, op, variant, run) {
  const p = plan(env, kind, op, variant, run)
  // rsync skips what is already there: the destination goes before every sample.
  rmSync(p.target, { recursive: true, force: true })
  execFileSync('sync')
  const idle = await waitIdle(env.server)
  // Each big sample starts with as much just-freed memory as it will fill (lib/machine.mjs).
  if (kind === 'file') equalFreeMemory(env.config.bigSize * 1.1)
  const serverCpu =
    variant === 'tandem'
      ? tandemCpu(env.server.pid)
      : daemonCpu(/** @type {NonNullable<Env['daemon']>} */ (env.daemon))
  const machineBefore = machineCpu()
  const timed = await timeCommand(p.command)
  const server = await serverCpu()
  // What is still in the page cache goes to the disk now, timed: rsync -a leaves its write-back
  // to the kernel's threads after it exits (not counted in its CPU), tandem's fsyncs do it inside
  // its own threads (counted). Wall to disk and the machine's CPU up to here compare like for like.
  const t0 = performance.now()
  execFileSync('sync')
  const syncSec = (performance.now() - t0) / 1000
  const machine = machineBusy(machineBefore, machineCpu())
  if (kind === 'file') checkBigFile(env, p.target, `${variant} ${op}`)
  else checkFolder(p.target, env.src.files)
  if (p.removeAfter) await timeCommand(tandemArgs(env, ['rm', '-r', p.removeAfter]))
  const amount =
    kind === 'file'
      ? { bytes: env.config.bigSize }
      : { files: env.src.files.length, bytes: env.src.files.length * env.config.smallSize }
  return {
    ...amount,
    wallSec: round(timed.sec, 4),
    ...(kind === 'file'
      ? { mibPerSec: round(env.config.bigSize / MiB / timed.sec, 1) }
      : { filesPerSec: round(env.src.files.length / timed.sec, 1) }),
    serverCpuSec: round(server.sec, 3),
    ...(server.afterExitSec !== undefined
      ? { serverCpuAfterExitSec: round(server.afterExitSec, 3) }
      : {}),
    clientCpuSec: round(timed.cpuSec, 3),
    syncSec: round(syncSec, 4),
    machineCpuSec: machine.busyCoreSec,
    idleBefore: idle,
  }
}

/**
 * The tandem server's CPU (all threads) from now until it is idle again after the command: what
 * it does once the client has its answer (the sync worker noticing the new file, say) is part of
 * the cost. `afterExitSec`: the part after the CLI exited.
 * @param {number} pid
 */
function tandemCpu(pid) {
  const total = (/** @type {ReturnType<typeof cpuTimes>} */ t) => t.user + t.system
  const before = total(cpuTimes(pid))
  return async () => {
    const atExit = total(cpuTimes(pid))
    await waitIdle({ pid })
    const settled = total(cpuTimes(pid))
    return { sec: settled - before, afterExitSec: settled - atExit }
  }
}

/**
 * The rsync daemon's CPU: its own, plus every connection's child (and theirs), counted once the
 * daemon has reaped them. @param {import('./lib/rsync-daemon.mjs').RsyncDaemon} daemon
 */
function daemonCpu(daemon) {
  const before = daemon.cpuSec()
  return async () => {
    await daemon.settle()
    return { sec: daemon.cpuSec() - before, afterExitSec: undefined }
  }
}

/**
 * Spawn `command`, wait for its exit (code 0, or throw); seconds from spawn to exit, and the CPU
 * it used with every descendant it waited for (this process's cutime + cstime around it).
 * @param {string[]} command
 */
async function timeCommand(command) {
  const [file, ...args] = /** @type {[string, ...string[]]} */ (command)
  const cpuBefore = reapedChildrenCpuSec('self')
  const t0 = performance.now()
  const proc = spawnTracked(file, args)
  const [code, signal] = await once(proc.child, 'exit')
  const sec = (performance.now() - t0) / 1000
  const cpuSec = reapedChildrenCpuSec('self') - cpuBefore
  if (code !== 0)
    throw new Error(`${command.join(' ')} exited ${code ?? signal}:\n${proc.output.text}`)
  return { sec, cpuSec }
}

/** @param {string} file @param {number} size */
function checkFile(file, size) {
  const actual = statSync(file).size
  if (actual !== size) throw new Error(`${file}: ${actual} bytes, expected ${size}`)
}

/** Size every time; SHA-256 the first time each variant writes it. @param {Env} env @param {string} file @param {string} what */
function checkBigFile(env, file, what) {
  checkFile(file, env.config.bigSize)
  if (env.checkedContent.has(what)) return
  const fd = openSync(file, 'r')
  const sha = (() => {
    try {
      return hashFd(fd)
    } finally {
      closeSync(fd)
    }
  })()
  if (sha !== env.src.sha256)
    throw new Error(`${what}: ${file} has SHA-256 ${sha}, expected ${env.src.sha256}`)
  env.checkedContent.add(what)
}

/** Every file there with the same bytes (a few MiB: cheap), and nothing else. @param {string} dir @param {{ name: string, data: Buffer }[]} files */
function checkFolder(dir, files) {
  const names = readdirSync(dir).filter((n) => !n.startsWith('.'))
  if (names.length !== files.length)
    throw new Error(`${dir}: ${names.length} files, expected ${files.length}`)
  for (const { name, data } of files)
    if (!readFileSync(path.join(dir, name)).equals(data))
      throw new Error(`${dir}/${name}: not the bytes sent`)
}

function rsyncVersion() {
  return execFileSync('rsync', ['--version'], { encoding: 'utf8' }).split('\n', 1)[0] ?? ''
}

/** @param {CliConfig} config @param {Case} kind @param {Op} op */
export function describe(config, kind, op) {
  const what =
    kind === 'file'
      ? `${sizeText(config.bigSize)}`
      : `${config.smallCount.toLocaleString('en')} × ${config.smallSize / 1024} KiB`
  return `${what} ${op}`
}

/** @param {number} bytes */
function sizeText(bytes) {
  return bytes >= 1024 * MiB ? `${bytes / 1024 / MiB} GiB` : `${bytes / MiB} MiB`
}

/** @param {{ mibPerSec?: number, filesPerSec?: number }} s */
function rate(s) {
  return s.mibPerSec !== undefined
    ? `${s.mibPerSec.toFixed(0).padStart(6)} MiB/s`
    : `${(s.filesPerSec ?? NaN).toFixed(0).padStart(6)} files/s`
}
