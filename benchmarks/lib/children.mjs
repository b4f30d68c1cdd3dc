/**
 * Every process and temp directory the benchmark makes is registered here, so that none outlives
 * the run: on success, on a thrown error, on Ctrl+C and on SIGTERM alike.
 */
import { fork, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/** @type {Set<import('node:child_process').ChildProcess>} */
const live = new Set()
/** @type {Set<string>} */
const dirs = new Set()

// A developer's cluster settings must not reach the benchmark's servers: with them every server
// (and a client given no --server) would use multicast DNS on the host's real LAN and join that
// cluster. The cluster benchmark passes --cluster itself, inside namespaces.
delete process.env.TANDEM_CLUSTER
delete process.env.TANDEM_CLUSTER_KEY

/** @param {import('node:child_process').ChildProcess} child */
function track(child) {
  live.add(child)
  child.once('exit', () => live.delete(child))
  return child
}

/**
 * Spawn a process whose output is kept (the last 64 KiB) and always drained, so that a chatty
 * server never blocks on a full pipe.
 * @param {string} command @param {string[]} args @param {import('node:child_process').SpawnOptions} [options]
 */
export function spawnTracked(command, args, options = {}) {
  const child = track(spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options }))
  const output = { text: '' }
  const keep = (/** @type {Buffer} */ chunk) => {
    output.text = (output.text + chunk.toString('utf8')).slice(-64 * 1024)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  return { child, output }
}

/**
 * Fork a Node module with an IPC channel (for the client processes).
 * @param {string} modulePath @param {string[]} [args] @param {string[]} [execArgv]
 */
export function forkTracked(modulePath, args = [], execArgv = []) {
  const child = track(
    fork(modulePath, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv }),
  )
  return child
}

/** A fresh directory under os.tmpdir(), removed at the end of the run. @param {string} prefix */
export function tempDir(prefix) {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix))
  dirs.add(dir)
  return dir
}

/** Wait until `child` prints a line matching `pattern`; returns the match. */
export function waitForOutput(
  /** @type {{child: import('node:child_process').ChildProcess, output: {text: string}}} */ proc,
  /** @type {RegExp} */ pattern,
  timeoutMs = 30_000,
) {
  return new Promise((resolve, reject) => {
    const { child, output } = proc
    const check = () => {
      const match = pattern.exec(output.text)
      if (match) finish(() => resolve(match))
    }
    const onExit = (/** @type {number|null} */ code) =>
      finish(() =>
        reject(new Error(`process exited (${code}) before printing ${pattern}:\n${output.text}`)),
      )
    const timer = setTimeout(
      () =>
        finish(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${output.text}`))),
      timeoutMs,
    )
    const finish = (/** @type {() => void} */ settle) => {
      clearTimeout(timer)
      child.stdout?.off('data', check)
      child.stderr?.off('data', check)
      child.off('exit', onExit)
      settle()
    }
    child.stdout?.on('data', check)
    child.stderr?.on('data', check)
    child.once('exit', onExit)
    check()
  })
}

/**
 * Stop a child: `signal`, then SIGKILL if it has not exited within `graceMs`.
 * @param {import('node:child_process').ChildProcess} child
 */
export async function stopChild(
  child,
  signal = /** @type {NodeJS.Signals} */ ('SIGTERM'),
  graceMs = 5_000,
) {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill(signal)
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
}

/** Kill every child still alive and remove every temp directory. Synchronous: safe in 'exit'. */
export function cleanupAll() {
  for (const child of live) {
    try {
      child.kill('SIGKILL')
    } catch {
      // already gone
    }
  }
  live.clear()
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  dirs.clear()
}

let hooked = false

/** Make sure cleanupAll runs however the process ends. */
export function installExitHooks() {
  if (hooked) return
  hooked = true
  process.on('exit', cleanupAll)
  for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}, cleaning up\n`)
      cleanupAll()
      process.exit(130)
    })
  }
}
