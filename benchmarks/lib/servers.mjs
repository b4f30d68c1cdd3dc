/**
 * The servers under test, each a child process on 127.0.0.1 and a free port: a real
 * `tandem serve` (with its HTTP front end on request), the baseline (baseline-server.mjs) and the
 * HTTP baseline (http-baseline-server.mjs).
 */
import { existsSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { spawnTracked, stopChild, tempDir, waitForOutput } from './children.mjs'
import { distPath } from './dist.mjs'

const LISTENING = /listening on (\S+):(\d+)/
const HTTP_LISTENING = /HTTP API on http:\/\/([^/\s]+):(\d+)\//
export const TANDEM_BIN = distPath('bin/tandem.js')
const SERVE_WRAPPER = fileURLToPath(new URL('./serve.mjs', import.meta.url))
const BASELINE = fileURLToPath(new URL('./baseline-server.mjs', import.meta.url))
const HTTP_BASELINE = fileURLToPath(new URL('./http-baseline-server.mjs', import.meta.url))

/**
 * @typedef {{ name: string, pid: number, host: string, port: number, httpPort: number | null,
 *   command: string[], output(): string, stop(): Promise<void> }} RunningServer
 */

/**
 * @param {string[]} args @param {string} name @param {{ http?: boolean }} [options] http: also wait
 *   for tandem's HTTP line, and give its port as httpPort
 * @returns {Promise<RunningServer>}
 */
async function start(name, args, options = {}) {
  const proc = spawnTracked(process.execPath, args)
  const match = /** @type {RegExpExecArray} */ (await waitForOutput(proc, LISTENING))
  const http = options.http
    ? /** @type {RegExpExecArray} */ (await waitForOutput(proc, HTTP_LISTENING))
    : null
  return {
    name,
    pid: /** @type {number} */ (proc.child.pid),
    host: /** @type {string} */ (match[1]),
    port: Number(match[2]),
    httpPort: http ? Number(http[2]) : null,
    command: ['node', ...args],
    output: () => proc.output.text,
    stop: () => stopChild(proc.child),
  }
}

/**
 * A data directory and a state directory for a tandem server, both inside one temp directory: the
 * server's lock (`root.lock`, beside the root) then lands inside it too, and is removed with it
 * even when the server was killed.
 * @param {string} prefix
 */
export function tandemDirs(prefix) {
  const base = tempDir(prefix)
  const dirs = { root: path.join(base, 'root'), state: path.join(base, 'state') }
  mkdirSync(dirs.root)
  mkdirSync(dirs.state)
  return dirs
}

/**
 * `tandem serve` from dist/bin/tandem.js, or through serve.mjs while the bin does not exist yet.
 * With `http`, its HTTP front end on a free port (`--http-port 0`), waited for (`httpPort`).
 * @param {{ root: string, state: string, nodeArgs?: string[], http?: boolean }} options
 */
export function startTandem({ root, state, nodeArgs = [], http = false }) {
  const entry = existsSync(TANDEM_BIN) ? [TANDEM_BIN, 'serve'] : [SERVE_WRAPPER]
  const flags = [
    '--name',
    'B',
    '--root',
    root,
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    // No peers here, but the file-exchange port is opened anyway: a free one, so that a demo or
    // another server on this machine (default 5001) never keeps the benchmark from starting.
    '--sync-port',
    '0',
    '--state',
    state,
    ...(http ? ['--http-port', '0'] : []),
  ]
  return start('tandem', [...nodeArgs, ...entry, ...flags], { http })
}

/** @param {{ root: string }} options */
export function startBaseline({ root }) {
  return start('baseline', [BASELINE, root])
}

/** @param {{ root: string }} options */
export function startHttpBaseline({ root }) {
  return start('http baseline', [HTTP_BASELINE, root])
}
