/**
 * One server process per data directory, and per state directory (proper-lockfile): two servers
 * on one root would fight over its files, two on one state directory over its database. A lock
 * left by a crashed server is reclaimed at once when the PID recorded in the state directory is no
 * longer running (same host: the directories are local), else after proper-lockfile's staleness
 * period.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import lockfile from 'proper-lockfile'

const STALE_MS = 10_000 // the lock's mtime is refreshed every STALE_MS / 2

export class DirectoryLockedError extends Error {
  constructor(
    readonly root: string,
    readonly pid: number | undefined,
    what: 'data directory' | 'state directory' = 'data directory',
  ) {
    super(
      `the ${what} ${root} is already used by another tandem server${pid ? ` (pid ${pid})` : ''}; stop it, or give this server its own --root and --state`,
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
  const releaseRoot = await lockOne(root, `${root}.lock`, pidFile, 'data directory', onCompromised)
  let releaseState: () => Promise<void>
  try {
    const lockPath = path.join(stateDir, 'state.lock')
    releaseState = await lockOne(stateDir, lockPath, pidFile, 'state directory', onCompromised)
  } catch (err) {
    await releaseRoot()
    throw err
  }
  writeFileSync(pidFile, String(process.pid))
  return async () => {
    rmSync(pidFile, { force: true })
    await releaseState()
    await releaseRoot()
  }
}

/** Lock `dir` with the lock at `lockPath`, reclaiming it when the PID in `pidFile` is dead. */
async function lockOne(
  dir: string,
  lockPath: string,
  pidFile: string,
  what: 'data directory' | 'state directory',
  onCompromised: (err: Error) => void,
): Promise<() => Promise<void>> {
  const options = { stale: STALE_MS, lockfilePath: lockPath, realpath: false, onCompromised }
  try {
    return await lockfile.lock(dir, options)
  } catch (err) {
    if ((err as { code?: string }).code !== 'ELOCKED') throw err
    const pid = readPid(pidFile)
    if (pid === undefined || isRunning(pid)) throw new DirectoryLockedError(dir, pid, what)
    rmSync(lockPath, { recursive: true, force: true }) // holder is dead: reclaim
    return lockfile.lock(dir, options)
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
