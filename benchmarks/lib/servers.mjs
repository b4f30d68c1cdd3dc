/**
 * The two servers under test, each a child process on 127.0.0.1 and a free port: a real
 * `tandem serve`, and the baseline (baseline-server.mjs).
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { spawnTracked, stopChild, waitForOutput } from './children.mjs'
import { distPath } from './dist.mjs'

const LISTENING = /listening on (\S+):(\d+)/
export const TANDEM_BIN = distPath('bin/tandem.js')
const SERVE_WRAPPER = fileURLToPath(new URL('./serve.mjs', import.meta.url))
const BASELINE = fileURLToPath(new URL('./baseline-server.mjs', import.meta.url))

/**
 * @typedef {{ name: string, pid: number, host: string, port: number, command: string[],
 *   output(): string, stop(): Promise<void> }} RunningServer
 */

/** @param {string[]} args @param {string} name @returns {Promise<RunningServer>} */
async function start(name, args) {
  const proc = spawnTracked(process.execPath, args)
  const match = /** @type {RegExpExecArray} */ (await waitForOutput(proc, LISTENING))
  return {
    name,
    pid: /** @type {number} */ (proc.child.pid),
    host: /** @type {string} */ (match[1]),
    port: Number(match[2]),
    command: ['node', ...args],
    output: () => proc.output.text,
    stop: () => stopChild(proc.child),
  }
}

/**
 * `tandem serve` from dist/bin/tandem.js, or through serve.mjs while the bin does not exist yet.
 * @param {{ root: string, state: string, nodeArgs?: string[] }} options
 */
export function startTandem({ root, state, nodeArgs = [] }) {
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
    '--state',
    state,
  ]
  return start('tandem', [...nodeArgs, ...entry, ...flags])
}

/** @param {{ root: string }} options */
export function startBaseline({ root }) {
  return start('baseline', [BASELINE, root])
}
