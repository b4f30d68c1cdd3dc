/**
 * One server process per data directory (proper-lockfile). A lock left by a crashed server is
 * reclaimed at once when the PID recorded beside it is no longer running (same host: the data
 * directory is local), else after proper-lockfile's staleness period.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import lockfile from 'proper-lockfile'

const STALE_MS = 10_000 // the lock's mtime is refreshed every STALE_MS / 2

export class DirectoryLockedError extends Error {
  constructor(
    readonly root: string,
    readonly pid: number | undefined,
  ) {
    super(
      `the data directory ${root} is already served by another tandem server${pid ? ` (pid ${pid})` : ''}`,
    )
    this.name = 'DirectoryLockedError'
  }
}

/**
 * Lock `root`; returns the release function. `onCompromised` is called if the lock is lost while
 * running (e.g. its directory was removed): the default would throw and kill the process.
 */
export async function lockDirectory(
  root: string,
  stateDir: string,
  onCompromised: (err: Error) => void,
): Promise<() => Promise<void>> {
  const pidFile = path.join(stateDir, 'server.pid')
  const lockPath = `${root}.lock`
  const options = { stale: STALE_MS, lockfilePath: lockPath, realpath: false, onCompromised }
  let release: () => Promise<void>
  try {
    release = await lockfile.lock(root, options)
  } catch (err) {
    if ((err as { code?: string }).code !== 'ELOCKED') throw err
    const pid = readPid(pidFile)
    if (pid === undefined || isRunning(pid)) throw new DirectoryLockedError(root, pid)
    rmSync(lockPath, { recursive: true, force: true }) // holder is dead: reclaim
    release = await lockfile.lock(root, options)
  }
  writeFileSync(pidFile, String(process.pid))
  return async () => {
    rmSync(pidFile, { force: true })
    await release()
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8'), 10)
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

function isRunning(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM'
  }
}
