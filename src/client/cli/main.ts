/**
 * The client command line: argv → (legacy forms rewritten) → commander → a command → output.
 * This is the one place that decides exit statuses:
 *   0  success (and --help, --version)
 *   1  the operation failed: one line `error: ERR_CODE: message` on stderr
 *   2  the command line was wrong (unknown command or option, bad value, no command off a
 *      terminal): `error: ERR_USAGE: message`, or the help text
 *   130 stopped by Ctrl+C (SIGINT): `error: ERR_INTERRUPTED: ...`, after the command's cleanup
 *   the menu's own status when the interactive menu ran.
 * With --json a failure is also printed on stdout as `{"error":{"code":"ERR_…","message":"…"}}`
 * (the shape the HTTP API answers with), so that a script reading stdout learns the code too.
 */
import { readFileSync } from 'node:fs'
import { CommanderError } from 'commander'
import { displayText, TandemError } from '../../protocol/client.js'
import { rewriteLegacyArgs } from './argv.js'
import { CliContext, type CliIo } from './context.js'
import { UsageError } from './errors.js'
import { EXIT_INTERRUPTED, interruptedError, runInterruptibly } from './interrupt.js'
import { buildProgram, type Invocation } from './program.js'

export const EXIT_OK = 0
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2
export { EXIT_INTERRUPTED }

/** After Ctrl+C, how long the command may take to clean up before the status is returned. */
const INTERRUPT_GRACE_MS = 3_000

/** Run the client CLI with `argv` (without node and script) and return the exit status. */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let invocation: Invocation | undefined
  const program = buildProgram(io, packageVersion(), (chosen) => (invocation = chosen))
  try {
    await program.parseAsync(rewriteLegacyArgs(argv), { from: 'user' })
  } catch (err) {
    if (err instanceof CommanderError && err.exitCode === 0) return EXIT_OK // help, version
    return report(err, io, wantsJson(argv))
  }
  if (!invocation) return EXIT_OK
  if (invocation.kind === 'help') {
    io.stderr.write(invocation.text)
    if (wantsJson(argv)) {
      const error = { code: 'ERR_USAGE', message: 'no command given (see tandem --help)' }
      io.stdout.write(`${JSON.stringify({ error })}\n`)
    }
    return EXIT_USAGE
  }
  const ctx = new CliContext(invocation.globals, io)
  const json = invocation.globals.json === true
  const { run } = invocation
  try {
    // The menu handles Ctrl+C itself (it stops the action and goes back to the menu).
    if (invocation.ownsInterrupt) return (await run(ctx)) ?? EXIT_OK
    const outcome = await runInterruptibly(
      () => run(ctx),
      () => ctx.interrupt(),
      INTERRUPT_GRACE_MS,
    )
    if (outcome.interrupted) return report(interruptedError(), io, json)
    return outcome.value ?? EXIT_OK
  } catch (err) {
    return report(err, io, json)
  } finally {
    await ctx.dispose()
  }
}

/** --json among the global or command options (before a `--`): for errors found while parsing. */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--')
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json')
}

/**
 * Print the one error line and choose the status. The message may quote a name, and may come
 * from the server: it is escaped (displayText), so that neither can drive the terminal.
 */
function report(err: unknown, io: CliIo, json: boolean): number {
  const { code, message, status } = describe(err)
  io.stderr.write(`error: ${displayText(code)}: ${displayText(message)}\n`)
  if (json) {
    // JSON escapes what could drive a terminal; the message is kept as it is.
    const retry = err instanceof TandemError && err.retryAfterMs !== undefined
    const error = retry ? { code, message, retryAfterMs: err.retryAfterMs } : { code, message }
    io.stdout.write(`${JSON.stringify({ error })}\n`)
  }
  if (
    status === EXIT_FAILURE &&
    code === 'ERR_INTERNAL' &&
    io.env.TANDEM_DEBUG &&
    err instanceof Error
  ) {
    io.stderr.write(`${err.stack ?? ''}\n`)
  }
  return status
}

function describe(err: unknown): { code: string; message: string; status: number } {
  if (err instanceof UsageError)
    return { code: 'ERR_USAGE', message: err.message, status: EXIT_USAGE }
  if (err instanceof CommanderError) {
    return {
      code: 'ERR_USAGE',
      message: oneLine(err.message.replace(/^error:\s*/, '')),
      status: EXIT_USAGE,
    }
  }
  // A TandemError's message is kept whole: a newline in it belongs to a name, and shows as \n.
  // ERR_USAGE thrown outside the command line's own code (a target too large to be an index).
  if (err instanceof TandemError)
    return { code: err.code, message: err.message, status: statusOf(err.code) }
  const message = err instanceof Error ? err.message : String(err)
  return { code: 'ERR_INTERNAL', message: oneLine(message), status: EXIT_FAILURE }
}

function statusOf(code: string): number {
  if (code === 'ERR_USAGE') return EXIT_USAGE
  return code === 'ERR_INTERRUPTED' ? EXIT_INTERRUPTED : EXIT_FAILURE
}

/** Our own multi-line messages (commander's, an unexpected error's) as one line. */
function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ')
}

function processIo(): CliIo {
  return {
    // A getter: touching process.stdin creates a stream, which only commands that read it need.
    get stdin() {
      return process.stdin
    },
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
  }
}

function packageVersion(): string {
  try {
    // src/client/cli/main.ts and dist/client/cli/main.js both sit three levels below the root.
    const text = readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')
    return (JSON.parse(text) as { version?: string }).version ?? 'unknown'
  } catch {
    return 'unknown'
  }
}
