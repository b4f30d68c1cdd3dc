/**
 * rsync, the reference of the CLI rows (cli.mjs): the `rsync` command (installed from Debian's
 * packages when it is missing, as .ci/run does) and an rsync daemon that the benchmark starts on
 * 127.0.0.1 and a free port, as a child of its own (`--no-detach`), with a config, a module and a
 * log in a temp directory that is removed when it stops.
 *
 * The daemon forks a child for every connection (which forks again for the receiving side); it
 * reaps them itself, so its CPU is its own utime + stime plus cutime + cstime (every reaped
 * descendant), read from /proc once no child of it is left (`settle`).
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { spawnTracked, stopChild, tempDir } from './children.mjs'
import { freePorts } from './cluster.mjs'
import { childPids, ownCpuSec, reapedChildrenCpuSec } from './proc-stats.mjs'

const START_TIMEOUT_MS = 10_000
const SETTLE_TIMEOUT_MS = 10_000
const MODULE = 'bench'

const sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms))

function hasRsync() {
  try {
    execFileSync('sh', ['-c', 'command -v rsync'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/**
 * Make sure `rsync` is there: `command -v rsync || apt-get install -y rsync`.
 * @param {(line: string) => void} log @returns {{ ok: true } | { ok: false, why: string }}
 */
export function ensureRsync(log) {
  if (hasRsync()) return { ok: true }
  log('  rsync is missing: apt-get update && apt-get install -y rsync (as .ci/run does)')
  try {
    execFileSync('sh', ['-c', 'apt-get update -qq && apt-get install -y -qq rsync'], {
      stdio: 'ignore',
      timeout: 300_000,
    })
  } catch (err) {
    return { ok: false, why: `apt-get install rsync failed: ${String(err).split('\n')[0]}` }
  }
  return hasRsync() ? { ok: true } : { ok: false, why: 'rsync is still missing after apt-get' }
}

/**
 * @typedef {{ pid: number, port: number, moduleDir: string, url(relative: string): string,
 *   cpuSec(): number, settle(): Promise<void>, log(): string, stop(): Promise<void> }} RsyncDaemon
 */

/** Start `rsync --daemon --no-detach` with module `bench` (writable). @returns {Promise<RsyncDaemon>} */
export async function startRsyncDaemon() {
  const base = tempDir('tandem-bench-rsyncd-')
  const moduleDir = path.join(base, 'module')
  mkdirSync(moduleDir)
  const [port] = await freePorts(1)
  const config = path.join(base, 'rsyncd.conf')
  const logFile = path.join(base, 'rsyncd.log')
  // uid/gid: the benchmark's own user. As root the daemon would otherwise drop to nobody, who may
  // not write into the module (mkstemp: Permission denied).
  writeFileSync(
    config,
    [
      `port = ${port}`,
      'address = 127.0.0.1',
      'use chroot = no',
      `uid = ${process.getuid?.() ?? 0}`,
      `gid = ${process.getgid?.() ?? 0}`,
      `pid file = ${path.join(base, 'rsyncd.pid')}`,
      `log file = ${logFile}`,
      `[${MODULE}]`,
      `path = ${moduleDir}`,
      'read only = no',
      '',
    ].join('\n'),
  )
  const proc = spawnTracked('rsync', ['--daemon', '--no-detach', `--config=${config}`])
  const pid = /** @type {number} */ (proc.child.pid)
  const readLog = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '')
  const stop = async () => {
    await stopChild(proc.child)
    rmSync(base, { recursive: true, force: true })
  }
  // Its log says when it listens; a probe connection would fork a child and cost it CPU.
  const t0 = performance.now()
  while (!readLog().includes(`listening on port ${port}`)) {
    if (proc.child.exitCode !== null || performance.now() - t0 > START_TIMEOUT_MS) {
      await stop()
      throw new Error(`rsync daemon did not start: ${proc.output.text} ${readLog()}`)
    }
    await sleep(20)
  }
  return {
    pid,
    port,
    moduleDir,
    url: (relative) => `rsync://127.0.0.1:${port}/${MODULE}/${relative}`,
    cpuSec: () => ownCpuSec(pid) + reapedChildrenCpuSec(pid),
    // Until the connection's child has exited and been reaped: only then is its CPU in cutime.
    async settle() {
      const s0 = performance.now()
      while (childPids(pid).length > 0) {
        if (performance.now() - s0 > SETTLE_TIMEOUT_MS)
          throw new Error(`the rsync daemon's children did not exit within ${SETTLE_TIMEOUT_MS} ms`)
        await sleep(2)
      }
    },
    log: readLog,
    stop,
  }
}
