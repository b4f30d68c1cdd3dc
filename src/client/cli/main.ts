/**
 * The client command line: argv → (legacy forms rewritten) → commander → a command → output.
 * This is the one place that decides exit statuses:
 *   0  success (and --help, --version)
 *   1  the operation failed: one line `error: ERR_CODE: message` on stderr
 *   2  the command line was wrong (unknown command or option, bad value, no command off a
 *      terminal): `error: ERR_USAGE: message`, or the help text
 *   the menu's own status when the interactive menu ran.
 */
import { readFileSync } from 'node:fs'
import { CommanderError } from 'commander'
import { displayText, TandemError } from '../../protocol/index.js'
import { rewriteLegacyArgs } from './argv.js'
import { CliContext, type CliIo } from './context.js'
import { UsageError } from './errors.js'
import { buildProgram, type Invocation } from './program.js'

export const EXIT_OK = 0
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2

/** Run the client CLI with `argv` (without node and script) and return the exit status. */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let invocation: Invocation | undefined
  const program = buildProgram(io, packageVersion(), (chosen) => (invocation = chosen))
  try {
    await program.parseAsync(rewriteLegacyArgs(argv), { from: 'user' })
  } catch (err) {
    if (err instanceof CommanderError && err.exitCode === 0) return EXIT_OK // help, version
    return report(err, io)
  }
  if (!invocation) return EXIT_OK
  if (invocation.kind === 'help') {
    io.stderr.write(invocation.text)
    return EXIT_USAGE
  }
  const ctx = new CliContext(invocation.globals, io)
  try {
    return (await invocation.run(ctx)) ?? EXIT_OK
  } catch (err) {
    return report(err, io)
  } finally {
    await ctx.dispose()
  }
}

/**
 * Print the one error line and choose the status. The message may quote a name, and may come
 * from the server: it is escaped (displayText), so that neither can drive the terminal.
 */
function report(err: unknown, io: CliIo): number {
  const { code, message, status } = describe(err)
  io.stderr.write(`error: ${displayText(code)}: ${displayText(message)}\n`)
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
    return {
      code: err.code,
      message: err.message,
      status: err.code === 'ERR_USAGE' ? EXIT_USAGE : EXIT_FAILURE,
    }
  const message = err instanceof Error ? err.message : String(err)
  return { code: 'ERR_INTERNAL', message: oneLine(message), status: EXIT_FAILURE }
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
