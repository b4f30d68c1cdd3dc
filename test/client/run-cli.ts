// Runs the built client CLI (dist/bin/tandem.js) as a child process, the way a script would.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { registerCleanup, tempDir, trackProcess } from '../helpers/index.js'

/** The built client; TANDEM_BIN overrides it, as for the servers (test/helpers/server-process.ts). */
export const CLI_BIN =
  process.env.TANDEM_BIN ?? fileURLToPath(new URL('../../dist/bin/tandem.js', import.meta.url))

export interface CliRun {
  code: number | null
  stdout: Buffer
  stderr: string
}

export interface CliOptions {
  /** Written to stdin, which is then closed (stdin is empty otherwise). */
  input?: string | Buffer
  env?: Record<string, string | undefined>
  cwd?: string
}

/** The environment every run starts from: nothing inherited that would pick a server or id. */
export function baseEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env }
  delete env.TANDEM_SERVER
  delete env.TANDEM_CLIENT_ID
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key]
    else env[key] = value
  }
  return env
}

/**
 * The CLI as client `clientId` of the server at `address` (a function, for a server started
 * later), with a config directory of its own: `env` is what it runs with, `tandem` runs it
 * (`options.env` adds to or overrides that).
 */
export function cliAs(address: string | (() => string), clientId: string) {
  const configHome = tempDir('tandem-cli-config-')
  const env = () => ({
    TANDEM_SERVER: typeof address === 'string' ? address : address(),
    TANDEM_CLIENT_ID: clientId,
    XDG_CONFIG_HOME: configHome,
  })
  const tandem = (args: readonly string[], options: CliOptions = {}): Promise<CliRun> =>
    runCli(args, { ...options, env: { ...env(), ...options.env } })
  return { env, tandem }
}

export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  const proc = spawn(process.execPath, [CLI_BIN, ...args], {
    env: baseEnv(options.env ?? {}),
    cwd: options.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  trackProcess(proc)
  const stdout: Buffer[] = []
  let stderr = ''
  proc.stdout.on('data', (chunk: Buffer) => stdout.push(chunk))
  proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  proc.stdin.on('error', () => {}) // a CLI that does not read stdin may close it first
  proc.stdin.end(options.input ?? '')
  return new Promise((resolve, reject) => {
    proc.once('error', reject)
    proc.once('close', (code) => resolve({ code, stdout: Buffer.concat(stdout), stderr }))
  })
}

/** Start the CLI and leave it running (for log --follow); killed when the test ends. */
export function spawnCli(args: readonly string[], options: CliOptions = {}) {
  const proc = spawn(process.execPath, [CLI_BIN, ...args], {
    env: baseEnv(options.env ?? {}),
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  trackProcess(proc)
  registerCleanup(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
  })
  let stdout = ''
  let stderr = ''
  proc.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  /** Resolves with the exit code (null if a signal ended it) once the process has ended. */
  const exited = new Promise<number | null>((resolve) =>
    proc.once('close', (code) => resolve(code)),
  )
  return { proc, stdout: () => stdout, stderr: () => stderr, exited }
}

/** The error code of a failed run's one stderr line (`error: ERR_X: ...`). */
export function errorCode(run: CliRun): string | undefined {
  const lines = run.stderr.trimEnd().split('\n')
  if (lines.length !== 1) return `expected one stderr line, got: ${run.stderr}`
  return /^error: (ERR_[A-Z_]+): /.exec(lines[0]!)?.[1]
}
