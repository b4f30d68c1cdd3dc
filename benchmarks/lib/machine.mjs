/** What the numbers were measured on: recorded with every result file. */
import { execFileSync } from 'node:child_process'
import { statfsSync } from 'node:fs'
import os from 'node:os'

function git(/** @type {string[]} */ args) {
  try {
    return execFileSync('git', args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim()
  } catch {
    return null
  }
}

export function machineInfo() {
  const cpus = os.cpus()
  const disk = statfsSync(os.tmpdir())
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpuCount: cpus.length,
    totalMemoryMiB: Math.round(os.totalmem() / 2 ** 20),
    freeMemoryMiB: Math.round(os.freemem() / 2 ** 20),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    arch: process.arch,
    tmpdir: os.tmpdir(),
    diskFreeGiB: Math.round(((disk.bavail * disk.bsize) / 2 ** 30) * 10) / 10,
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
    gitCommit: git(['rev-parse', 'HEAD']),
    gitDirty: (git(['status', '--porcelain', '--untracked-files=no']) ?? '') !== '',
  }
}
