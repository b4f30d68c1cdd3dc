/**
 * What the numbers were measured on (recorded with every result file), and the machine's memory
 * made the same for each sample.
 */
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

/**
 * Give the next command the same free memory as every other: a child process fills `bytes` of
 * anonymous memory and exits, so that at least that much was freed a moment ago. On a VM whose
 * balloon hands freed memory back to the host (free page reporting, a few seconds after it is
 * freed), the first touch of a page the host took back costs a fault in the host: measured here,
 * a 1 GiB `rsync` get took 0.99 s right after another command's file was removed and 3.43 s
 * after a pause, and the benchmark's order had handed such pauses to some variants more than to
 * others. Anonymous memory, so that no write size is favoured (freed file pages come back in the
 * folio sizes they were written in). Costs about 0.9 s a GiB.
 * @param {number} bytes
 */
export function equalFreeMemory(bytes) {
  execFileSync(process.execPath, ['-e', `Buffer.alloc(${Math.ceil(bytes)}, 1)`], {
    stdio: 'ignore',
  })
}
